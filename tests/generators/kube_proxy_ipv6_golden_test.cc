// The IPv6 expectations of kube-proxy's own unit tests, against kpath's
// generators. Facts (inputs, chain names, hashes, expected rules and packet
// outcomes) are kube-proxy's (kubernetes/kubernetes pkg/proxy/iptables and
// pkg/proxy/nftables proxier_test.go, Apache-2.0); the code is kpath's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "harness/generators/kube_hash.h"
#include "harness/generators/kube_iptables.h"
#include "harness/generators/kube_nftables.h"
#include "tests/generators/reference_cluster.h"
#include "tests/generators/ruleset_compare.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;
using ::testing::Not;

// kube-proxy's fake proxier: node "test-hostname" (iptables) / "test-node"
// (nftables) at 2001:db8::1, with the secondary address 2001:db8:1::2.
Node test_node(const std::string& name) {
  Node n;
  n.name = name;
  n.ips = {Ip::from("2001:db8::1"), Ip::from("2001:db8:1::2")};
  return n;
}

Service nodeport_service(const std::string& cluster_ip, uint16_t node_port, TrafficPolicy etp) {
  Service s;
  s.ns = "ns1";
  s.name = "svc1";
  s.type = ServiceType::NodePort;
  s.cluster_ip = Ip::from(cluster_ip);
  s.cluster_ips = {*s.cluster_ip};
  s.external_traffic_policy = etp;
  ServicePort p;
  p.name = "p80";
  p.protocol = Protocol::TCP;
  p.port = 80;
  p.target_port = 80;
  p.node_port = node_port;
  s.ports.push_back(p);
  return s;
}

// One IPv6 slice for ns1/svc1 port p80: the first endpoint on no node (so not
// local), the second on `local_node`.
EndpointSlice ipv6_slice(const std::string& remote_ip, const std::string& local_ip, const std::string& local_node) {
  EndpointSlice s = kpath_test::slice("ns1", "svc1", {EndpointPort{"p80", Protocol::TCP, 80}},
                                      {kpath_test::endpoint(remote_ip, ""),
                                       kpath_test::endpoint(local_ip, local_node)});
  s.family = AF_INET6;
  return s;
}

// TestEnableLocalhostNodePortsIPv6 / TestDisableLocalhostNodePortsIPv6
// (pkg/proxy/iptables, kube-proxy 1.26-1.28): an IPv6 fake with the no-op
// local-traffic detector, NodePort ns1/svc1 (fd00:ab34::20, nodePort 30001,
// externalTrafficPolicy Local), endpoints ff06::c1 (no node) and ff06::c2
// (this node). Both expect the same ip6tables-restore input: the IPv6 proxier
// never serves NodePorts on ::1, whatever --localhost-nodeports says.
Cluster localhost_nodeports_cluster() {
  Cluster c;
  c.pod_cidr = Cidr::from("fd00:10::/64");
  c.service_cidr = Cidr::from("fd00:ab34::/112");
  c.pod_cidrs = {c.pod_cidr};
  c.service_cidrs = {c.service_cidr};
  c.nodes = {test_node("test-hostname")};
  c.services = {nodeport_service("fd00:ab34::20", 30001, TrafficPolicy::Local)};
  c.slices = {ipv6_slice("ff06::c1", "ff06::c2", "test-hostname")};
  // The no-op detector: no cluster CIDR, so no "not local" masquerade and no
  // pod short-circuit.
  c.proxy.cluster_cidr.reset();
  c.proxy.cluster_cidr_v6.reset();
  return c;
}

const char* const kLocalhostNodePortsIpv6 = R"(*filter
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXT-XPGD46QRK7WJZT7O - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-LIGRYQQLSZN4UWQ5 - [0:0]
:KUBE-SEP-XJJ5QXWGJG344QDZ - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
:KUBE-SVL-XPGD46QRK7WJZT7O - [0:0]
-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 30001 -j KUBE-EXT-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d fd00:ab34::20 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS
-A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "masquerade LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ
-A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "route LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-EXT-XPGD46QRK7WJZT7O -j KUBE-SVL-XPGD46QRK7WJZT7O
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SEP-LIGRYQQLSZN4UWQ5 -m comment --comment ns1/svc1:p80 -s ff06::c1 -j KUBE-MARK-MASQ
-A KUBE-SEP-LIGRYQQLSZN4UWQ5 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination [ff06::c1]:80
-A KUBE-SEP-XJJ5QXWGJG344QDZ -m comment --comment ns1/svc1:p80 -s ff06::c2 -j KUBE-MARK-MASQ
-A KUBE-SEP-XJJ5QXWGJG344QDZ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination [ff06::c2]:80
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> [ff06::c1]:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-LIGRYQQLSZN4UWQ5
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> [ff06::c2]:80" -j KUBE-SEP-XJJ5QXWGJG344QDZ
-A KUBE-SVL-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> [ff06::c2]:80" -j KUBE-SEP-XJJ5QXWGJG344QDZ
COMMIT
)";

std::string ip6tables_restore_input(const Cluster& c, const std::string& node) {
  KubeIptablesGenerator::Options o;
  o.base_chain_jumps = false;
  return KubeIptablesGenerator(o).restore_input(c, node, AF_INET6);
}

TEST(KubeProxyIpv6Golden, IptablesLocalhostNodePortsEnabledAndDisabled) {
  auto expected = kpath_test::parse_iptables_restore(kLocalhostNodePortsIpv6);
  for (bool localhost_node_ports : {true, false}) {
    SCOPED_TRACE(localhost_node_ports ? "localhost NodePorts on" : "localhost NodePorts off");
    Cluster c = localhost_nodeports_cluster();
    c.proxy.localhost_node_ports = localhost_node_ports;
    const std::string text = ip6tables_restore_input(c, "test-hostname");
    auto actual = kpath_test::parse_iptables_restore(text);
    EXPECT_TRUE(expected == actual) << kpath_test::diff(expected, actual) << "\n--- generated:\n" << text;
  }
}

// The same hashes through the hash functions: the endpoint is hashed as
// kube-proxy prints it, "[IP]:PORT".
TEST(KubeProxyIpv6Golden, IptablesIpv6EndpointChainHashes) {
  EXPECT_EQ(kube::svc_chain("ns1/svc1:p80", "tcp"), "KUBE-SVC-XPGD46QRK7WJZT7O");
  EXPECT_EQ(kube::sep_chain("ns1/svc1:p80", "tcp", "[ff06::c1]:80"), "KUBE-SEP-LIGRYQQLSZN4UWQ5");
  EXPECT_EQ(kube::sep_chain("ns1/svc1:p80", "tcp", "[ff06::c2]:80"), "KUBE-SEP-XJJ5QXWGJG344QDZ");
}

// Test_servicePortEndpointChainNameBase (pkg/proxy/nftables), its IPv6 rows:
// the colons of the address become dots, and a name over 240 characters is
// cut to 237 plus "..." (the hash still tells the endpoints apart).
TEST(KubeProxyIpv6Golden, NftablesIpv6EndpointChainNames) {
  EXPECT_EQ(kube::nft_endpoint_base("testing", "service", "tcp", "http", "fd80:abcd:12::a1b2:c3d4:e5f6:9999", 80),
            "U7E2ET36-testing/service/tcp/http__fd80.abcd.12..a1b2.c3d4.e5f6.9999/80");
  const std::string ns = "very-long-namespace-name-abcdefghijklmnopqrstuvwxyz0123456789xx";
  const std::string name = "very-long-service-name-why-would-you-even-do-this-i-mean-really";
  const std::string port = "port-443-providing-the-hypertext-transmission-protocol-with-tls";
  const std::string prefix = ns + "/" + name + "/sctp/" + port + "__";
  EXPECT_EQ(kube::nft_endpoint_base(ns, name, "sctp", port, "1234:5678:9abc:def0::abc:1234", 443),
            "5YS7AFEA-" + prefix + "1234.5678.9abc.def0..abc.1234/443");
  EXPECT_EQ(kube::nft_endpoint_base(ns, name, "sctp", port, "1234:5678:9abc:def0::abcd:1234:5678", 443),
            "CI6C53Q3-" + prefix + "1234.5678.9abc.def0..abcd.1234...");
  EXPECT_EQ(kube::nft_endpoint_base(ns, name, "sctp", port, "1234:5678:9abc:def0::abcd:1234:8765", 443),
            "2FLXFK6X-" + prefix + "1234.5678.9abc.def0..abcd.1234...");
}

// kube-proxy's nftables fake, dual-stack: pods 10.0.0.0/8 and fd00:10::/64,
// Services 172.30.0.0/16 and fd00:10:96::/112, node test-node.
Cluster nft_dual_stack_cluster() {
  Cluster c;
  c.pod_cidr = Cidr::from("10.0.0.0/8");
  c.service_cidr = Cidr::from("172.30.0.0/16");
  c.pod_cidrs = {c.pod_cidr, Cidr::from("fd00:10::/64")};
  c.service_cidrs = {c.service_cidr, Cidr::from("fd00:10:96::/112")};
  Node n = test_node("test-node");
  n.ips.insert(n.ips.begin(), Ip::from("192.168.0.2"));
  c.nodes = {n};
  c.proxy.cluster_cidr = c.pod_cidrs[0];
  c.proxy.cluster_cidr_v6 = c.pod_cidrs[1];
  return c;
}

// The `table ip6 kube-proxy` part of a kube-nftables script.
std::string ip6_table(const std::string& script) {
  const size_t at = script.find("add table ip6 kube-proxy");
  return at == std::string::npos ? "" : script.substr(at);
}

// TestProxier_OnServiceCIDRsChanged (pkg/proxy/nftables): given both
// families' service CIDRs, the IPv6 proxier keeps fd00:10:96::/112 only (and
// the IPv4 one 172.30.0.0/16 only), so each table drops traffic to its own
// family's unallocated ClusterIPs.
TEST(KubeProxyIpv6Golden, NftablesEachFamilyKeepsItsOwnServiceCidr) {
  const std::string script = KubeNftablesGenerator().generate(nft_dual_stack_cluster(), "test-node").text;
  const std::string v6 = ip6_table(script);
  ASSERT_FALSE(v6.empty()) << script;
  const std::string v4 = script.substr(0, script.size() - v6.size());
  EXPECT_THAT(v6, HasSubstr("add rule ip6 kube-proxy cluster-ips-check ip6 daddr { fd00:10:96::/112 } drop"));
  EXPECT_THAT(v6, Not(HasSubstr("172.30.0.0/16")));
  EXPECT_THAT(v4, HasSubstr("add rule ip kube-proxy cluster-ips-check ip daddr { 172.30.0.0/16 } drop"));
  EXPECT_THAT(v4, Not(HasSubstr("fd00:10:96::/112")));
}

// TestNodePorts (pkg/proxy/nftables), the rules behind its IPv6 rows: the
// fake's nodePortAddresses 192.168.0.2/32 and 2001:db8::1/128 leave the IPv6
// proxier the primary address only ("secondary nodeIP ignores NodePorts");
// 192.168.0.0/24, 192.168.1.0/24, 2001:db8::/64 and 2001:db8:1::2/128 give it
// both node addresses ("external to nodePort on secondary IP"). The IPv4
// CIDRs are another family's: ignored, not an error.
TEST(KubeProxyIpv6Golden, NftablesNodePortAddressesOfTheIpv6Proxier) {
  struct Row {
    std::vector<std::string> node_port_addresses;
    std::vector<std::string> accepted;
    std::vector<std::string> ignored;
  };
  const std::vector<Row> rows = {
      {{"192.168.0.2/32", "2001:db8::1/128"}, {"2001:db8::1"}, {"2001:db8:1::2"}},
      {{"192.168.0.0/24", "192.168.1.0/24", "2001:db8::/64", "2001:db8:1::2/128"},
       {"2001:db8::1", "2001:db8:1::2"},
       {}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(::testing::PrintToString(row.node_port_addresses));
    Cluster c = nft_dual_stack_cluster();
    for (const std::string& cidr : row.node_port_addresses) c.proxy.node_port_addresses.push_back(Cidr::from(cidr));
    const std::string v6 = ip6_table(KubeNftablesGenerator().generate(c, "test-node").text);
    ASSERT_FALSE(v6.empty());
    for (const std::string& ip : row.accepted)
      EXPECT_THAT(v6, HasSubstr("add element ip6 kube-proxy nodeport-ips { " + ip + " }"));
    for (const std::string& ip : row.ignored) EXPECT_THAT(v6, Not(HasSubstr("nodeport-ips { " + ip + " }")));
    EXPECT_THAT(v6, Not(HasSubstr("192.168.")));
  }
}

}  // namespace
