// `to: NODE/localhost`: a pod or external client routes its 127.0.0.1 through
// a node, changing only its own namespace, and the node's stack answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "harness/cases/case_loader.h"
#include "harness/topology/topology.h"
#include "harness/traffic/prober.h"
#include "netns/process.h"
#include "netns/sysctl.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Case two_nodes() {
  return parse_case(
      "apiVersion: kpath/v1\nkind: Case\nname: loopback\ncluster:\n  podCIDR: 10.32.0.0/12\n"
      "  serviceCIDR: 10.96.0.0/12\n  nodes:\n    - name: node1\n      ip: 192.168.100.1\n"
      "      pods: [{name: pod1, ip: 10.32.0.2}]\n"
      "    - name: node2\n      ip: 192.168.100.3\n"
      "  externals:\n    - name: client\n      ip: 192.168.100.2\n"
      "expect:\n  - from: client\n    to: node1/localhost:9\n    result: refused\n",
      "loopback.yaml");
}

Outcome probe_loopback(const Topology& topo, const std::string& from) {
  ProbeSpec spec;
  spec.target = kpath::Ip::from("127.0.0.1");
  spec.port = 9;  // nothing listens: a node's stack answers with a RST
  spec.count = 1;
  spec.timeout = std::chrono::milliseconds(400);
  auto r = run_probes(topo.ns(from), spec);
  return r.size() == 1 ? r.front().outcome : Outcome::Error;
}

TEST(LoopbackRoute, ClientsReachTheNodesLoopbackThroughItsStack) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = two_nodes();
  ASSERT_EQ(c.expect.front().to.via_node, "node1");
  EXPECT_EQ(c.expect.front().to.address, kpath::Ip::from("127.0.0.1"));
  EXPECT_EQ(c.expect.front().name, "client -> node1/localhost:9 TCP");
  Topology topo = Topology::build(c.cluster);
  // A node accepts 127/8 from a link only with route_localnet (kpath sets it
  // with rules that DNAT 127/8); node2 keeps the default and drops it.
  netns::set_sysctl(topo.ns("node1"), "net/ipv4/conf/all/route_localnet", "1");

  topo.route_loopback_through(c.cluster, "client", "node1");
  topo.route_loopback_through(c.cluster, "client", "node1");  // again: no change, no error
  EXPECT_EQ(probe_loopback(topo, "client"), Outcome::Refused);
  topo.route_loopback_through(c.cluster, "pod1", "node1");
  EXPECT_EQ(probe_loopback(topo, "pod1"), Outcome::Refused);

  auto rules = netns::run_process(topo.ns("client"), {"ip", "-4", "rule", "show"});
  EXPECT_THAT(rules.out, HasSubstr("50:\tfrom all to 127.0.0.1 lookup 127"));
  EXPECT_THAT(rules.out, HasSubstr("100:\tfrom all lookup local"));
  EXPECT_THAT(rules.out, StartsWith("50:")) << "the local table's rule left priority 0";
  EXPECT_EQ(netns::get_sysctl(topo.ns("client"), "net/ipv4/conf/eth0/route_localnet"), "1");

  // The route moves to node2, which drops 127/8 from a link as a martian.
  topo.route_loopback_through(c.cluster, "client", "node2");
  EXPECT_EQ(probe_loopback(topo, "client"), Outcome::Timeout);
}

}  // namespace
