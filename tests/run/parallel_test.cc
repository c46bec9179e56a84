// Two kpath processes at once, each building its own namespaces: both pass
// and the root namespace is as it was. Isolation is what lets CI run suites
// side by side on one machine.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "netns/namespace.h"
#include "netns/process.h"
#include "support/host_process.h"
#include "support/host_snapshot.h"
#include "support/privileges.h"

namespace {

const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";

netns::ProcessResult run_seed_suite() {
  return kpath_test::run_on_host(netns::Namespace::current(),
                                 {KPATH_BINARY, "run", "-j1", "-g", "kube-iptables", kSeed}, {},
                                 std::chrono::seconds(120));
}

TEST(Parallel, TwoSuitesAtOnceBothPassAndLeaveTheHostAlone) {
  KPATH_REQUIRE_NET_ADMIN();
  auto before = kpath_test::HostSnapshot::take();
  auto a = std::async(std::launch::async, run_seed_suite);
  auto b = std::async(std::launch::async, run_seed_suite);
  netns::ProcessResult ra = a.get(), rb = b.get();
  EXPECT_EQ(ra.exit_code, 0) << ra.out << ra.err;
  EXPECT_EQ(rb.exit_code, 0) << rb.out << rb.err;
  EXPECT_NE(ra.out.find("0 failed, 0 errors"), std::string::npos) << ra.out;
  EXPECT_NE(rb.out.find("0 failed, 0 errors"), std::string::npos) << rb.out;
  // Namespaces are freed asynchronously after the last fd closes.
  auto after = kpath_test::HostSnapshot::settled_to(before);
  EXPECT_TRUE(before == after) << "the root namespace changed:\n" << before.difference(after);
}

}  // namespace
