// kube-proxy's own rulesets (its golden test outputs) replayed on a real
// kernel with the topology that produced them: prepared as kube-proxy prepares
// a node (nfacct objects, base-chain jumps, route_localnet), nft declarations
// first, public LB addresses rewritten to documentation addresses.
#include <gtest/gtest.h>

#include "harness/cases/case_loader.h"
#include "harness/run/runner.h"
#include "support/privileges.h"

namespace {

using namespace harness;

std::string describe(const CaseRun& run) {
  std::string s = run.error;
  for (const auto& e : run.expectations) s += "\n" + e.expectation->name + ": " + e.check.summary;
  return s;
}

void expect_replay_passes(const std::string& file) {
  Case c = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/replay/" + file);
  ASSERT_TRUE(c.generator.has_value()) << "a replay case pins its ruleset";
  CaseRun run = run_case(c, *c.generator, RunOptions{});
  EXPECT_EQ(run.status, Status::Pass) << describe(run);
  EXPECT_EQ(run.expectations.size(), 10u);
}

TEST(Replay, KubeProxyIptablesRulesetWorksOnTheKernel) {
  KPATH_REQUIRE_NET_ADMIN();
  expect_replay_passes("kube-proxy-overall-iptables.yaml");
}

TEST(Replay, KubeProxyNftablesRulesetWorksOnTheKernel) {
  KPATH_REQUIRE_NET_ADMIN();
  expect_replay_passes("kube-proxy-overall-nftables.yaml");
}

}  // namespace
