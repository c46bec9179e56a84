// A dual-stack topology carries IPv6 at once (no duplicate-address wait),
// across nodes, through the pods' link-local gateway, and its pod links learn
// no unicast IPv6 neighbours (permanent entries both ways, as for IPv4).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "harness/cases/case_loader.h"
#include "harness/topology/topology.h"
#include "harness/traffic/echo_server.h"
#include "harness/traffic/prober.h"
#include "netns/rtnl.h"
#include "support/privileges.h"

namespace {

using namespace harness;

Case dual_stack_case() {
  return parse_case(
      "apiVersion: kpath/v1\nkind: Case\nname: ipv6\ncluster:\n"
      "  podCIDR: [10.32.0.0/12, fd00:10:32::/64]\n  serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]\n"
      "  nodes:\n"
      "    - name: node1\n      ips: [192.168.100.1, 2001:db8:100::1]\n      pods:\n"
      "        - {name: a, ips: [10.32.0.2, fd00:10:32::2], listen: [{port: 80}]}\n"
      "    - name: node2\n      ips: [192.168.100.3, 2001:db8:100::3]\n      pods:\n"
      "        - {name: b, ips: [10.32.0.3, fd00:10:32::3], listen: [{port: 80}]}\n"
      "  externals:\n    - {name: client, ips: [192.168.100.2, 2001:db8:100::2]}\n"
      "expect:\n  - {from: client, to: node1:80, result: refused}\n",
      "ipv6.yaml");
}

Outcome probe(const Topology& topo, const std::string& from, const std::string& to) {
  ProbeSpec spec;
  spec.target = kpath::Ip::from(to);
  spec.port = 80;
  spec.count = 1;
  spec.timeout = std::chrono::milliseconds(1000);
  return run_probes(topo.ns(from), spec).front().outcome;
}

TEST(Ipv6Topology, CarriesIpv6AtOnceAcrossNodesWithoutLearningOnPodLinks) {
  KPATH_REQUIRE_NET_ADMIN();
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) GTEST_SKIP() << "no IPv6 in this kernel (/proc/sys/net/ipv6)";
  Case c = dual_stack_case();
  Topology topo = Topology::build(c.cluster);
  EchoServers servers;
  for (const auto& pod : c.cluster.pods) servers.listen(topo.ns(pod.name), pod.name, 80, Protocol::TCP, true);
  servers.start();
  // Straight after the build: a tentative (DAD) address would not answer yet.
  EXPECT_EQ(probe(topo, "node1", "fd00:10:32::2"), Outcome::Reply);
  EXPECT_EQ(probe(topo, "a", "fd00:10:32::3"), Outcome::Reply) << "pod to pod across the fabric, via fe80::1";
  EXPECT_EQ(probe(topo, "b", "fd00:10:32::2"), Outcome::Reply);
  EXPECT_EQ(probe(topo, "a", "2001:db8:100::3"), Outcome::Refused) << "another node, nothing listening: its RST";
  EXPECT_EQ(probe(topo, "client", "2001:db8:100::1"), Outcome::Refused);
  EXPECT_EQ(probe(topo, "a", "10.32.0.3"), Outcome::Reply) << "IPv4 alongside";
  servers.stop();
  int learned_on_pod_links = 0, permanent = 0;
  std::string seen;
  for (const std::string node : {"node1", "node2"}) {
    netns::Rtnl rt(topo.ns(node));
    const int eth0 = rt.link_index("eth0");
    for (const auto& n : rt.list_neighbours())
      if (n.permanent()) ++permanent;
      else if (n.link_index != eth0 && n.ip.is_v6() && !n.ip.str().starts_with("fe80:") &&
               !n.ip.str().starts_with("ff")) {  // MLD's multicast entries are no learned peers
        ++learned_on_pod_links;
        seen += node + ": " + n.ip.str() + " state " + std::to_string(n.state) + "\n";
      }
  }
  EXPECT_EQ(learned_on_pod_links, 0) << seen;
  EXPECT_EQ(permanent, 4) << "each node knows its pod's two addresses";
  netns::Rtnl pod(topo.ns("a"));
  const kpath::Ip gw4 = kpath::Ip::from(Topology::kPodGateway), gw6 = kpath::Ip::from(Topology::kPodGateway6);
  int gateways = 0;
  for (const auto& n : pod.list_neighbours())
    if (n.permanent() && (n.ip == gw4 || n.ip == gw6)) ++gateways;
  EXPECT_EQ(gateways, 2) << "the pod knows both gateways";
}

// Un-NATed IPv6 leaves a node for the sink, as IPv4 does: an address nobody
// holds (here an unallocated one of the IPv6 service CIDR and an off-cluster
// one) is answered by the sink, from a pod (through its node) and from the
// node itself, over TCP and UDP; fabric members still answer themselves.
TEST(Ipv6Topology, TheSinkOwnsEveryUnownedIpv6Address) {
  KPATH_REQUIRE_NET_ADMIN();
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) GTEST_SKIP() << "no IPv6 in this kernel (/proc/sys/net/ipv6)";
  Case c = dual_stack_case();
  Topology topo = Topology::build(c.cluster);
  EchoServers servers;
  for (const auto& pod : c.cluster.pods) servers.listen(topo.ns(pod.name), pod.name, 80, Protocol::TCP, true);
  for (Protocol p : {Protocol::TCP, Protocol::UDP}) servers.listen(topo.sink(), kSinkBackend, 80, p, true);
  servers.start();
  auto answered_by = [&](const std::string& from, const std::string& to, Protocol protocol = Protocol::TCP) {
    ProbeSpec spec;
    spec.target = kpath::Ip::from(to);
    spec.port = 80;
    spec.protocol = protocol;
    spec.count = 1;
    spec.timeout = std::chrono::milliseconds(1000);
    ProbeResult r = run_probes(topo.ns(from), spec).front();
    const bool answered = r.outcome == Outcome::Reply || r.outcome == Outcome::Leaked;
    return answered ? r.reply.backend : "(" + to_string(r.outcome) + ")";
  };
  EXPECT_EQ(answered_by("a", "fd00:10:96::99"), kSinkBackend) << "a pod, through its node";
  EXPECT_EQ(answered_by("a", "fd00:10:96::99", Protocol::UDP), kSinkBackend);
  EXPECT_EQ(answered_by("node1", "2001:db8:ffff::7"), kSinkBackend) << "the node itself";
  EXPECT_EQ(answered_by("node2", "fd00:10:32::2"), "a") << "a pod is still its own";
  EXPECT_EQ(answered_by("b", "192.0.2.9"), kSinkBackend) << "IPv4 alongside";
  servers.stop();
}

// An external client with an IPv6 sourceRange sends from any address of it
// (`sources:`), as with IPv4: IPv6 binds only to assigned addresses unless the
// namespace allows non-local binds, so without that every probe was an error.
TEST(Ipv6Topology, AnExternalClientSendsFromItsIpv6SourceRange) {
  KPATH_REQUIRE_NET_ADMIN();
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) GTEST_SKIP() << "no IPv6 in this kernel (/proc/sys/net/ipv6)";
  Case c = parse_case(
      "apiVersion: kpath/v1\nkind: Case\nname: ipv6-range\ncluster:\n"
      "  podCIDR: fd00:10:32::/64\n  serviceCIDR: fd00:10:96::/112\n"
      "  nodes:\n"
      "    - name: node1\n      ip: 2001:db8:100::1\n"
      "  externals:\n    - {name: crowd, ip: 2001:db8:100::2, sourceRange: 2001:db8:c0::/124}\n"
      "expect:\n  - {from: crowd, to: node1:80, result: refused}\n",
      "ipv6-range.yaml");
  Topology topo = Topology::build(c.cluster);
  EchoServers servers;
  servers.listen(topo.ns("node1"), "node1", 80, Protocol::TCP, true);
  servers.start();
  ProbeSpec spec;
  spec.target = kpath::Ip::from("2001:db8:100::1");
  spec.port = 80;
  spec.count = 2;
  spec.sources = {kpath::Ip::from("2001:db8:c0::1"), kpath::Ip::from("2001:db8:c0::e")};
  spec.timeout = std::chrono::milliseconds(1000);
  auto results = run_probes(topo.ns("crowd"), spec);
  servers.stop();
  ASSERT_EQ(results.size(), 2u);
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].outcome, Outcome::Reply) << "probe " << i << ": " << to_string(results[i].outcome);
    EXPECT_EQ(results[i].reply.peer, spec.sources[i])
        << "node1 saw the range address the probe bound to (and answered it through the client)";
  }
}

}  // namespace
