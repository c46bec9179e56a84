// Re-apply installs exactly what a generator wrote, every time: a generator
// whose rules in a built-in chain (INPUT) change at a sync gets them in place,
// and what kpath adds on its own is listed, not hidden.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/cases/case_loader.h"
#include "harness/run/runner.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;

// One node, two pods; nothing listens on the node's port 30999, so the node's
// stack refuses it unless a rule in INPUT drops it.
const std::string kCase = R"(apiVersion: kpath/v1
kind: Case
name: reapply
cluster:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  nodes:
    - name: n1
      ip: 192.168.10.1
      pods:
        - {name: web-a, ip: 10.244.0.10, labels: {app: web}, listen: [{port: 8080}]}
        - {name: web-b, ip: 10.244.0.11, labels: {app: web}, listen: [{port: 8080}]}
  externals:
    - {name: client, ip: 192.168.10.100}
objects:
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      clusterIP: 10.96.10.5
      selector: {app: web}
      ports: [{port: 80, targetPort: 8080}]
expect:
  - {name: before the change the node refuses, from: client, to: 'n1:30999', result: refused}
  - {name: after the change the generator drops it in INPUT, from: client, to: 'n1:30999', result: dropped,
     before: {web-b: deleted}}
)";

// Writes only a filter table; once web-b is no longer an endpoint it adds a DROP
// in the built-in INPUT chain.
const std::string kGenerator =
    "exec:m=$(cat); printf '*filter\\n:INPUT ACCEPT [0:0]\\n'; "
    "printf '%s' \"$m\" | grep -q '\"pod\": \"web-b\"' || printf -- '-A INPUT -p tcp --dport 30999 -j DROP\\n'; "
    "printf 'COMMIT\\n'";

TEST(Reapply, RulesInBuiltInChainsAreInstalledAtEverySync) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = parse_case(kCase, "reapply.yaml");
  // --coverage: a passing expectation keeps the counters its probes moved.
  RunOptions options;
  options.coverage = true;
  CaseRun run = run_case(c, GeneratorSpec::parse(kGenerator, ""), options);
  ASSERT_EQ(run.expectations.size(), 2u) << run.error;
  EXPECT_EQ(run.expectations[0].check.status, Status::Pass) << run.expectations[0].check.summary;
  EXPECT_EQ(run.expectations[1].check.status, Status::Pass) << run.expectations[1].check.summary;
  // The DROP's own counter (the only rule in INPUT) carried the second
  // expectation's probes, and no rule carried the first's.
  EXPECT_TRUE(run.expectations[0].counters.empty());
  ASSERT_EQ(run.expectations[1].counters.size(), 1u);
  EXPECT_EQ(run.expectations[1].counters[0].table, "ip filter");
  EXPECT_EQ(run.expectations[1].counters[0].chain, "INPUT");
  EXPECT_GE(run.expectations[1].counters[0].packets, 20u);
}

// Without --coverage a pass keeps no counters (its read is skipped), and a
// failure after it in the same rules still counts only its own probes: 200
// probes pass through the DROP first, then 10 fail (expected refused).
TEST(Reapply, AFailureAfterAPassCountsOnlyItsOwnProbes) {
  KPATH_REQUIRE_NET_ADMIN();
  std::string text = kCase.substr(0, kCase.find("expect:")) +
                     "expect:\n"
                     "  - {name: dropped, from: client, to: 'n1:30999', result: dropped, probes: 200}\n"
                     "  - {name: not refused, from: client, to: 'n1:30999', result: refused, probes: 10}\n";
  Case c = parse_case(text, "counted.yaml");
  const std::string drop =
      "exec:printf '*filter\\n:INPUT ACCEPT [0:0]\\n-A INPUT -p tcp --dport 30999 -j DROP\\nCOMMIT\\n'";
  CaseRun run = run_case(c, GeneratorSpec::parse(drop, ""), RunOptions{});
  ASSERT_EQ(run.expectations.size(), 2u) << run.error;
  EXPECT_EQ(run.expectations[0].check.status, Status::Pass) << run.expectations[0].check.summary;
  EXPECT_TRUE(run.expectations[0].counters.empty());
  ASSERT_EQ(run.expectations[1].check.status, Status::Fail);
  ASSERT_EQ(run.expectations[1].counters.size(), 1u);
  EXPECT_EQ(run.expectations[1].counters[0].chain, "INPUT");
  // A SYN per probe, a few retransmitted: not the first expectation's 200 as well.
  EXPECT_GE(run.expectations[1].counters[0].packets, 10u);
  EXPECT_LT(run.expectations[1].counters[0].packets, 100u);
  EXPECT_THAT(run.expectations[1].diagnosis,
              HasSubstr("ip filter INPUT: -A INPUT -p tcp -m tcp --dport 30999 -j DROP"));
}

// A generator of its own naming (no KUBE- chain) that breaks at a sync: after
// web-b is deleted it DNATs the node port to a port nothing listens on. The
// failing expectation shows its own probes on the rules that carried them,
// node and chain named, not the 100 probes of the passing one before it.
TEST(Reapply, AFailureAfterAChangeShowsItsProbesOnAForeignGeneratorsChains) {
  KPATH_REQUIRE_NET_ADMIN();
  std::string text = kCase.substr(0, kCase.find("expect:")) +
                     "expect:\n"
                     "  - {name: answered, from: client, to: 'n1:30999', result: reachable, probes: 100}\n"
                     "  - {name: still answered, from: client, to: 'n1:30999', result: reachable, probes: 10,\n"
                     "     before: {web-b: deleted}}\n";
  Case c = parse_case(text, "foreign.yaml");
  const std::string shop =
      "exec:m=$(cat); p=8080; printf '%s' \"$m\" | grep -q '\"pod\": \"web-b\"' || p=9999; "
      "printf '*nat\\n:PREROUTING ACCEPT [0:0]\\n:SHOP-NODEPORTS - [0:0]\\n:SHOP-TO-WEB - [0:0]\\n"
      "-A PREROUTING -j SHOP-NODEPORTS\\n-A SHOP-NODEPORTS -p tcp --dport 30999 -j SHOP-TO-WEB\\n"
      "-A SHOP-TO-WEB -p tcp -j DNAT --to-destination 10.244.0.10:%s\\nCOMMIT\\n' $p";
  CaseRun run = run_case(c, GeneratorSpec::parse(shop, ""), RunOptions{});
  ASSERT_EQ(run.expectations.size(), 2u) << run.error;
  EXPECT_EQ(run.expectations[0].check.status, Status::Pass) << run.expectations[0].check.summary;
  ASSERT_EQ(run.expectations[1].check.status, Status::Fail) << run.expectations[1].check.summary;
  const RuleCounter* dnat = nullptr;
  for (const auto& counter : run.expectations[1].counters)
    if (counter.chain == "SHOP-TO-WEB") dnat = &counter;
  ASSERT_NE(dnat, nullptr) << run.expectations[1].diagnosis;
  EXPECT_EQ(dnat->node, "n1");
  EXPECT_EQ(dnat->table, "ip nat");
  EXPECT_THAT(dnat->rule, HasSubstr("10.244.0.10:9999"));
  // One new connection per probe: the ten of this expectation, not the first's 100 as well.
  EXPECT_GE(dnat->packets, 10u);
  EXPECT_LT(dnat->packets, 100u);
  EXPECT_THAT(run.expectations[1].diagnosis, HasSubstr("ip nat SHOP-TO-WEB: -A SHOP-TO-WEB"));
  EXPECT_THAT(run.expectations[1].diagnosis, HasSubstr("n1"));
}

// A dump of kube-proxy's restore input lacks the base-chain jumps: kpath adds
// them, in the same transaction, and says so.
TEST(Reapply, AddedJumpsAreListed) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/replay/kube-proxy-overall-iptables.yaml");
  CaseRun run = run_case(c, *c.generator, RunOptions{});
  EXPECT_EQ(run.status, Status::Pass) << run.error;
  std::string all;
  for (const auto& a : run.additions) all += a + "\n";
  EXPECT_THAT(all, HasSubstr("kube-proxy's base-chain jumps"));
  EXPECT_THAT(all, HasSubstr("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"));
  EXPECT_THAT(all, HasSubstr("created the nfacct counter"));
}

}  // namespace
