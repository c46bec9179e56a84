// Without CAP_NET_ADMIN kpath runs rootless (in a user namespace of its own), and
// the kernel tests skip with the reason (or fail under CI=true). The
// capability is dropped with setpriv (util-linux) for one child process only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "netns/namespace.h"
#include "netns/process.h"
#include "netns/user_namespace.h"
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
#define REQUIRE_ROOT_TO_DROP()                                                          \
  do {                                                                                  \
    KPATH_REQUIRE_NET_ADMIN();                                                          \
    if (geteuid() != 0) GTEST_SKIP() << "needs root to drop CAP_NET_ADMIN for a child"; \
  } while (0)

// Without the capability kpath does not give up: it runs rootless, inside a
// user namespace of its own (the bounding set is full again in there).
TEST(Privileges, KpathWithoutNetAdminRunsRootless) {
  REQUIRE_ROOT_TO_DROP();
  if (!netns::user_namespace_blockers().empty()) GTEST_SKIP() << netns::user_namespace_blockers().front();
  auto r = without_net_admin({"-u", "CI"}, {KPATH_BINARY, "run", "-g", "kube-iptables", kSeed});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("kpath: rootless: in a user namespace (uid 0 -> 0, gid 0 -> 0)"));
  EXPECT_THAT(r.out, HasSubstr("4 passed, 0 failed"));
}

// doctor tries the features where kpath run would use them: inside a user
// namespace, and says so; it adds the rootless readiness section.
TEST(Privileges, DoctorWithoutNetAdminTriesInsideAUserNamespace) {
  REQUIRE_ROOT_TO_DROP();
  if (!netns::user_namespace_blockers().empty()) GTEST_SKIP() << netns::user_namespace_blockers().front();
  auto r = without_net_admin({}, {KPATH_BINARY, "doctor"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("CAP_NET_ADMIN                not held"));
  EXPECT_THAT(r.out, HasSubstr("(tried as: rootless, in a user namespace (uid 0 -> 0, gid 0 -> 0))"));
  EXPECT_THAT(r.out, HasSubstr("nf_nat                       ok"));
  EXPECT_THAT(r.out, HasSubstr("Rootless readiness"));
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
