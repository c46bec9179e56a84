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

const std::string kReplay = std::string(KPATH_SOURCE_DIR) + "/cases/replay/";

void expect_replay_passes(const std::string& file, size_t expectations = 10) {
  Case c = load_case(kReplay + file);
  ASSERT_TRUE(c.generator.has_value()) << "a replay case pins its ruleset";
  CaseRun run = run_case(c, *c.generator, RunOptions{});
  EXPECT_EQ(run.status, Status::Pass) << describe(run);
  EXPECT_EQ(run.expectations.size(), expectations);
}

TEST(Replay, KubeProxyIptablesRulesetWorksOnTheKernel) {
  KPATH_REQUIRE_NET_ADMIN();
  expect_replay_passes("kube-proxy-overall-iptables.yaml");
}

TEST(Replay, KubeProxyNftablesRulesetWorksOnTheKernel) {
  KPATH_REQUIRE_NET_ADMIN();
  expect_replay_passes("kube-proxy-overall-nftables.yaml");
}

// Dumps taken from each node of a three-node cluster (externalTrafficPolicy
// Local: each node's rules name its own endpoints) replay on every node, from
// a folder of NODE.iptables-save files and from a NODE=PATH list of nft dumps.
TEST(Replay, PerNodeDumpsGoToTheirNodes) {
  KPATH_REQUIRE_NET_ADMIN();
  expect_replay_passes("multi-node-etp-local-iptables.yaml", 4);
  expect_replay_passes("multi-node-etp-local-nftables.yaml", 4);
}

// The same case with only node-a's dump (a single file goes on the first node)
// fails through node-b and node-c: the per-node expectations really depend on
// each node holding its own rules.
TEST(Replay, OneDumpForThreeNodesFailsThroughTheOthers) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = load_case(kReplay + "multi-node-etp-local-iptables.yaml");
  auto single = GeneratorSpec::parse("ruleset,mode=iptables:multi-node-etp-local/iptables/node-a.iptables-save",
                                     kReplay);
  CaseRun run = run_case(c, single, RunOptions{});
  ASSERT_EQ(run.expectations.size(), 4u) << run.error;
  EXPECT_EQ(run.expectations[0].check.status, Status::Fail) << describe(run);  // through node-b
  EXPECT_EQ(run.expectations[1].check.status, Status::Fail) << describe(run);  // through node-c
  EXPECT_EQ(run.expectations[2].check.status, Status::Pass) << describe(run);  // node-a drops
}

// kube-iptables' own dual-stack rules as iptables-save and ip6tables-save
// printed them (cases/ipv6/replay/): one dump per family, the IPv6 one
// through ip6tables-restore, every flow of both families holds. Without the
// IPv6 dump the IPv6 flows fail: the ip6tables dump really is installed.
TEST(Replay, DualStackDumpsOnePerFamily) {
  KPATH_REQUIRE_NET_ADMIN();
  const std::string ipv6 = std::string(KPATH_SOURCE_DIR) + "/cases/ipv6/";
  Case c = load_case(ipv6 + "replay-dualstack-iptables.yaml");
  ASSERT_TRUE(c.generator.has_value());
  CaseRun run = run_case(c, *c.generator, RunOptions{});
  EXPECT_EQ(run.status, Status::Pass) << describe(run);
  EXPECT_EQ(run.expectations.size(), 8u);

  auto v4_only = GeneratorSpec::parse("ruleset,mode=iptables:replay/master.iptables-save", ipv6);
  CaseRun without = run_case(c, v4_only, RunOptions{});
  ASSERT_EQ(without.expectations.size(), 8u) << without.error;
  for (const auto& e : without.expectations) {
    const bool v6 = e.expectation->name.find("IPv6") != std::string::npos;
    if (e.expectation->name.find("node port no Service uses") != std::string::npos) continue;  // refused either way
    EXPECT_EQ(e.check.status, v6 ? Status::Fail : Status::Pass) << e.expectation->name << ": " << e.check.summary;
  }
}

}  // namespace
