// Without CAP_NET_ADMIN kpath says so in one sentence and exits non-zero, and
// the kernel tests skip with the reason (or fail under CI=true). The
// capability is dropped with setpriv (util-linux) for one child process only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "netns/namespace.h"
#include "netns/process.h"
#include "support/host_process.h"
#include "support/privileges.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";

// argv run as root but with CAP_NET_ADMIN out of every capability set; env
// entries such as "-u", "CI" or "CI=true" go to env(1) first.
netns::ProcessResult without_net_admin(const std::vector<std::string>& env, const std::vector<std::string>& argv) {
  std::vector<std::string> cmd{"setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-net_admin", "--",
                               "env"};
  cmd.insert(cmd.end(), env.begin(), env.end());
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  return kpath_test::run_on_host(netns::Namespace::current(), cmd, {}, std::chrono::seconds(60));
}

// Dropping a capability from the bounding set needs CAP_SETPCAP: root.
#define REQUIRE_ROOT_TO_DROP()                                        \
  do {                                                                \
    KPATH_REQUIRE_NET_ADMIN();                                        \
    if (geteuid() != 0) GTEST_SKIP() << "needs root to drop CAP_NET_ADMIN for a child"; \
  } while (0)

TEST(Privileges, KpathWithoutNetAdminSaysSoInOneLineAndFails) {
  REQUIRE_ROOT_TO_DROP();
  auto r = without_net_admin({}, {KPATH_BINARY, "run", "-g", "kube-iptables", kSeed});
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr: " << r.err;
  EXPECT_THAT(r.err, HasSubstr("CAP_NET_ADMIN"));
  EXPECT_EQ(r.out, "") << "nothing ran, so nothing is reported";
}

// Without the capability no feature can be tried, and doctor says that
// rather than calling every feature missing.
TEST(Privileges, DoctorWithoutNetAdminSaysItDidNotTry) {
  REQUIRE_ROOT_TO_DROP();
  auto r = without_net_admin({}, {KPATH_BINARY, "doctor"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("CAP_NET_ADMIN                not held"));
  EXPECT_THAT(r.out, HasSubstr("not tried: building the scratch namespaces they are tried in needs CAP_NET_ADMIN"));
  EXPECT_THAT(r.out, Not(HasSubstr("missing (")));
}

TEST(Privileges, KernelTestsSkipWithTheReasonOutsideCi) {
  REQUIRE_ROOT_TO_DROP();
  auto r = without_net_admin({"-u", "CI"}, {KPATH_NETNS_TESTS, "--gtest_filter=Namespace.*"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("needs CAP_NET_ADMIN"));
  EXPECT_THAT(r.out, HasSubstr("[  SKIPPED ]"));
  EXPECT_THAT(r.out, HasSubstr("[  PASSED  ] 0 tests")) << "a test ran without the capability";
}

TEST(Privileges, KernelTestsFailWithoutNetAdminUnderCi) {
  REQUIRE_ROOT_TO_DROP();
  auto r = without_net_admin({"CI=true"}, {KPATH_NETNS_TESTS, "--gtest_filter=Namespace.*"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("CI=true but CAP_NET_ADMIN is missing"));
}

}  // namespace
