#include "harness/generators/kube_common.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace {

using harness::kube::categorize;
using harness::kube::EndpointInfo;
using harness::kube::ServicePortInfo;

EndpointInfo ep(const std::string& ip, std::vector<std::string> hints, bool ready = true, bool local = false) {
  return EndpointInfo{.ip = harness::Ip::from(ip),
                      .port = 80,
                      .local = local,
                      .ready = ready,
                      .serving = ready,
                      .terminating = false,
                      .zone_hints = std::move(hints)};
}

// A ClusterIP Service port that asks for topology, seen from a node of zone-a.
ServicePortInfo topology_port(std::vector<EndpointInfo> endpoints) {
  ServicePortInfo sp;
  sp.topology_wanted = true;
  sp.node_zone = "zone-a";
  sp.endpoints = std::move(endpoints);
  return sp;
}

std::vector<std::string> addresses(const std::vector<EndpointInfo>& eps) {
  std::vector<std::string> out;
  for (const auto& e : eps) out.push_back(e.ip.str());
  return out;
}

using Addrs = std::vector<std::string>;

// The cases of kube-proxy's TestCategorizeEndpoints about hints (1.31-1.32).
TEST(TopologyHints, OnlyTheEndpointsHintedForTheNodesZone) {
  auto sp = topology_port(
      {ep("10.1.2.3", {"zone-a"}), ep("10.1.2.4", {"zone-b"}), ep("10.1.2.5", {"zone-c"}), ep("10.1.2.6", {"zone-a"})});
  auto c = categorize(sp);
  EXPECT_EQ(addresses(c.cluster), (Addrs{"10.1.2.3", "10.1.2.6"}));
  EXPECT_EQ(addresses(c.all_reachable), (Addrs{"10.1.2.3", "10.1.2.6"}));
  EXPECT_TRUE(c.has_any);
}

TEST(TopologyHints, IgnoredUnlessTheServiceAsks) {
  auto sp = topology_port({ep("10.1.2.3", {"zone-a"}), ep("10.1.2.4", {"zone-b"})});
  sp.topology_wanted = false;
  EXPECT_EQ(addresses(categorize(sp).cluster), (Addrs{"10.1.2.3", "10.1.2.4"}));
}

TEST(TopologyHints, IgnoredOnANodeWithoutZoneOrWithNoEndpointForItsZone) {
  auto sp = topology_port({ep("10.1.2.3", {"zone-b"}), ep("10.1.2.4", {"zone-c"})});
  EXPECT_EQ(addresses(categorize(sp).cluster), (Addrs{"10.1.2.3", "10.1.2.4"}));
  sp.endpoints[0].zone_hints = {"zone-a"};
  sp.node_zone = "";
  EXPECT_EQ(addresses(categorize(sp).cluster), (Addrs{"10.1.2.3", "10.1.2.4"}));
}

TEST(TopologyHints, OneReadyEndpointWithoutAHintDisablesThemAll) {
  auto sp = topology_port({ep("10.1.2.3", {"zone-a"}), ep("10.1.2.4", {})});
  EXPECT_EQ(addresses(categorize(sp).cluster), (Addrs{"10.1.2.3", "10.1.2.4"}));
  // An unready endpoint's missing hint does not count, nor does its hint for this zone.
  sp.endpoints[1].ready = sp.endpoints[1].serving = false;
  sp.endpoints.push_back(ep("10.1.2.5", {"zone-b"}));
  EXPECT_EQ(addresses(categorize(sp).cluster), (Addrs{"10.1.2.3"}));
  auto only_unready_here = topology_port({ep("10.1.2.3", {"zone-a"}, false), ep("10.1.2.4", {"zone-b"})});
  EXPECT_EQ(addresses(categorize(only_unready_here).cluster), (Addrs{"10.1.2.4"}));
}

TEST(TopologyHints, AnEndpointHintedForSeveralZonesServesEach) {
  auto sp = topology_port({ep("10.1.2.3", {"zone-a", "zone-b"}), ep("10.1.2.4", {"zone-b"})});
  EXPECT_EQ(addresses(categorize(sp).cluster), (Addrs{"10.1.2.3"}));
}

TEST(TopologyHints, LocalPolicyEndpointsAreNotNarrowedAndTheUnionIsReachable) {
  // externalTrafficPolicy Local on a NodePort: the local endpoint is hinted for
  // zone-b, so the cluster list lacks it and every reachable endpoint is the union.
  auto sp = topology_port({ep("10.1.2.3", {"zone-a"}), ep("10.1.2.4", {"zone-b"}, true, /*local=*/true)});
  sp.node_port = 30080;
  sp.external_policy_local = true;
  auto c = categorize(sp);
  EXPECT_EQ(addresses(c.cluster), (Addrs{"10.1.2.3"}));
  EXPECT_EQ(addresses(c.local), (Addrs{"10.1.2.4"}));
  EXPECT_EQ(addresses(c.all_reachable), (Addrs{"10.1.2.3", "10.1.2.4"}));
  // internalTrafficPolicy Local alone: hints play no part.
  auto itp = topology_port({ep("10.1.2.3", {"zone-a"}), ep("10.1.2.4", {"zone-b"}, true, true)});
  itp.internal_policy_local = true;
  c = categorize(itp);
  EXPECT_TRUE(c.cluster.empty());
  EXPECT_EQ(addresses(c.all_reachable), (Addrs{"10.1.2.4"}));
}

using harness::kube::Args;
using harness::kube::args;

TEST(RuleArgs, OneSpaceBetweenTokensNoneAtTheEnds) {
  EXPECT_EQ(args("-A", "KUBE-SERVICES", "-j", "KUBE-NODEPORTS").str(), "-A KUBE-SERVICES -j KUBE-NODEPORTS");
  EXPECT_EQ(Args().str(), "");
}

TEST(RuleArgs, EmptyTokensAndEmptyArgsAreAbsent) {
  const bool random_fully = false;
  EXPECT_EQ(args("-j", "MASQUERADE", random_fully ? "--random-fully" : "").str(), "-j MASQUERADE");
  EXPECT_EQ(args("", "-m", Args(), "mark", "").str(), "-m mark");
}

TEST(RuleArgs, NestedArgsAndNumbersFlatten) {
  const Args match = args("-m", "tcp", "-p", "tcp", "--dport", uint16_t(30080));
  EXPECT_EQ(args("-A", "KUBE-NODEPORTS", match, "-j", "KUBE-EXT-X").str(),
            "-A KUBE-NODEPORTS -m tcp -p tcp --dport 30080 -j KUBE-EXT-X");
  EXPECT_EQ(args("--seconds", 10800, "mod", size_t(2)).str(), "--seconds 10800 mod 2");
}

TEST(RuleArgs, QuotedKeepsSpacesInOneToken) {
  EXPECT_EQ(args("--comment", harness::kube::quoted("ns/svc:p80 cluster IP")).str(),
            "--comment \"ns/svc:p80 cluster IP\"");
}

TEST(ServicePortName, UnnamedPortHasNoColonSince119) {
  harness::Service svc;
  svc.ns = "default";
  svc.name = "web";
  harness::ServicePort named, unnamed;
  named.name = "http";
  using harness::kube::PortNames;
  using harness::kube::service_port_name;
  EXPECT_EQ(service_port_name(svc, named, PortNames::Current), "default/web:http");
  EXPECT_EQ(service_port_name(svc, named, PortNames::Pre119), "default/web:http");
  EXPECT_EQ(service_port_name(svc, unnamed, PortNames::Current), "default/web");
  EXPECT_EQ(service_port_name(svc, unnamed, PortNames::Pre119), "default/web:");
}

}  // namespace

namespace {

using harness::DetectLocalMode;
using harness::kube::local_detector;

// kube-proxy's LocalTrafficDetector shapes (pkg/proxy/util/localdetector.go),
// for the masquerade rule ("not local") and the Local policy short-circuit ("local").
TEST(LocalDetector, EachModesMatches) {
  harness::ProxyOptions o;
  o.cluster_cidr = harness::Cidr::from("10.244.0.0/16");
  o.cluster_cidr_v6 = harness::Cidr::from("fd00:10:244::/64");
  harness::Node node;
  node.pod_cidr = harness::Cidr::from("10.244.1.0/24");
  auto d = local_detector(o, node, AF_INET);
  EXPECT_EQ(d.if_not_local.str(), "! -s 10.244.0.0/16");
  EXPECT_EQ(d.nft_if_local.str(), "ip saddr 10.244.0.0/16");
  EXPECT_EQ(local_detector(o, node, AF_INET6).nft_if_not_local.str(), "ip6 saddr != fd00:10:244::/64");
  o.detect_local_mode = DetectLocalMode::NodeCIDR;
  d = local_detector(o, node, AF_INET);
  EXPECT_EQ(d.if_local.str(), "-s 10.244.1.0/24");
  EXPECT_EQ(d.nft_if_not_local.str(), "ip saddr != 10.244.1.0/24");
  EXPECT_FALSE(local_detector(o, node, AF_INET6).implemented());  // the node has no IPv6 podCIDR
  o.detect_local_mode = DetectLocalMode::BridgeInterface;
  o.detect_local_interface = "cbr0";
  d = local_detector(o, node, AF_INET);
  EXPECT_EQ(d.if_not_local.str(), "! -i cbr0");
  EXPECT_EQ(d.nft_if_not_local.str(), "iifname != \"cbr0\"");
  o.detect_local_mode = DetectLocalMode::InterfaceNamePrefix;
  o.detect_local_interface = "veth";
  d = local_detector(o, node, AF_INET6);
  EXPECT_EQ(d.if_local.str(), "-i veth+");
  EXPECT_EQ(d.if_not_local.str(), "! -i veth+");
  EXPECT_EQ(d.nft_if_local.str(), "iifname \"veth*\"");
  EXPECT_EQ(d.nft_if_not_local.str(), "iifname != \"veth*\"");
  o.detect_local_mode = DetectLocalMode::ClusterCIDR;
  o.cluster_cidr.reset();
  EXPECT_FALSE(local_detector(o, node, AF_INET).implemented());
}

}  // namespace
