// A run's first probes count from a start assumed empty (every rule is new)
// instead of a read of every rule; a packet through the node before them (the
// kernel's IPv6 multicast reports do that) must not show in their counts:
// the counts a failure shows are its own probes'.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/cases/case_loader.h"
#include "harness/rules/installer.h"
#include "harness/run/counter_watch.h"
#include "harness/topology/topology.h"
#include "harness/traffic/prober.h"
#include "support/privileges.h"

namespace {

using namespace harness;

const std::string kCase = R"(apiVersion: kpath/v1
kind: Case
name: counter-watch
cluster:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  nodes:
    - name: n1
      ip: 192.168.10.1
  externals:
    - {name: client, ip: 192.168.10.100}
expect:
  - {name: the node refuses, from: client, to: 'n1:30999', result: refused}
)";

// One rule that every probe (one SYN, refused) passes once.
RuleSet rules() {
  RuleSet r;
  r.text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 30999 -j REJECT --reject-with tcp-reset\nCOMMIT\n";
  r.origin = "counter_watch_test";
  return r;
}

void probe_node(const Topology& topo, int count) {
  ProbeSpec spec;
  spec.target = kpath::Ip::from("192.168.10.1");
  spec.port = 30999;
  spec.count = count;
  auto results = run_probes(topo.ns("client"), spec);
  ASSERT_EQ(results.size(), static_cast<size_t>(count));
  for (const auto& r : results) ASSERT_EQ(r.outcome, Outcome::Refused);
}

// Installs the rule into a new node, sends `stray` probes, then starts
// counting as a run does after its first install and sends 5 more: returns
// the packets the counters say those 5 moved.
uint64_t first_probes_counted(int stray) {
  Case c = parse_case(kCase, "counter-watch.yaml");
  Topology topo = Topology::build(c.cluster);
  CounterWatch watch(topo, c.cluster, InstallOptions{}, /*coverage=*/false);
  watch.before_first_install();
  install_rules(topo.ns("n1"), rules(), InstallOptions{});
  if (stray > 0) probe_node(topo, stray);
  watch.fresh();
  watch.ready();
  probe_node(topo, 5);
  auto moves = watch.moved();
  EXPECT_EQ(watch.trouble(), "");
  uint64_t packets = 0;
  for (const auto& m : moves)
    if (m.chain == "INPUT") packets += m.packets;
  return packets;
}

TEST(CounterWatch, FirstProbesCountFromAnAssumedEmptyStart) {
  KPATH_REQUIRE_NET_ADMIN();
  EXPECT_EQ(first_probes_counted(0), 5u);
}

TEST(CounterWatch, PacketsBeforeTheFirstProbesAreNotTheirs) {
  KPATH_REQUIRE_NET_ADMIN();
  // 3 packets passed the rule after the install: an empty start would say 8.
  EXPECT_EQ(first_probes_counted(3), 5u);
}

}  // namespace
