// The IPv6 proxiers: kube-iptables' ip6tables-restore input and
// kube-nftables' `table ip6 kube-proxy`, for the dual-stack seed cluster.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "harness/generators/kube_hash.h"
#include "harness/generators/kube_iptables.h"
#include "harness/generators/kube_nftables.h"
#include "harness/rules/features.h"
#include "tests/generators/reference_cluster.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;
using ::testing::Not;

// The seed with a second family: RequireDualStack, fd00:10:96::bc49 beside
// 10.103.188.73, the pods at fd00:10:32::3 and ::5 too, as the loader builds it.
Cluster dual_seed() {
  Cluster c = kpath_test::seed_cluster();
  c.pod_cidrs = {c.pod_cidr, Cidr::from("fd00:10:32::/64")};
  c.service_cidrs = {c.service_cidr, Cidr::from("fd00:10:96::/112")};
  c.nodes[0].ips.push_back(Ip::from("2001:db8:100::1"));
  Service& s = c.services[0];
  s.ip_family_policy = IpFamilyPolicy::RequireDualStack;
  s.cluster_ips = {*s.cluster_ip, Ip::from("fd00:10:96::bc49")};
  c.slices[0].family = AF_INET;
  EndpointSlice v6 = kpath_test::slice("default", "webapp1-nodeport-svc", {EndpointPort{"", Protocol::TCP, 80}},
                                       {kpath_test::endpoint("fd00:10:32::3", "master"),
                                        kpath_test::endpoint("fd00:10:32::5", "master")});
  v6.name += "-ipv6";
  v6.family = AF_INET6;
  c.slices.push_back(v6);
  c.proxy.cluster_cidr_v6 = Cidr::from("fd00:10:32::/64");
  return c;
}

// The same Service on an IPv6-only cluster.
Cluster ipv6_seed() {
  Cluster c = dual_seed();
  c.pod_cidr = c.pod_cidrs[1];
  c.service_cidr = c.service_cidrs[1];
  c.pod_cidrs = {c.pod_cidr};
  c.service_cidrs = {c.service_cidr};
  c.nodes[0].ips = {Ip::from("2001:db8:100::1")};
  Service& s = c.services[0];
  s.ip_family_policy = IpFamilyPolicy::SingleStack;
  s.cluster_ip = Ip::from("fd00:10:96::bc49");
  s.cluster_ips = {*s.cluster_ip};
  c.slices.erase(c.slices.begin());
  c.proxy.cluster_cidr.reset();
  return c;
}

std::string restore6(const Cluster& c) {
  KubeIptablesGenerator::Options o;
  o.base_chain_jumps = false;
  return KubeIptablesGenerator(o).restore_input(c, "master", AF_INET6);
}

const std::string kSpn = "default/webapp1-nodeport-svc";

TEST(KubeIptablesIpv6, DualStackWritesBothFamiliesAndKeepsIpv4AsItWas) {
  KubeIptablesGenerator g;
  RuleSet dual = g.generate(dual_seed(), "master");
  EXPECT_EQ(dual.text, g.generate(kpath_test::seed_cluster(), "master").text);
  EXPECT_THAT(dual.text, Not(HasSubstr("fd00:")));
  EXPECT_THAT(dual.text6, HasSubstr("-d fd00:10:96::bc49"));
  EXPECT_THAT(dual.text6, Not(HasSubstr("10.103.188.73")));
  EXPECT_TRUE(g.generate(kpath_test::seed_cluster(), "master").text6.empty());
}

TEST(KubeIptablesIpv6, Ipv6OnlyClusterHasNoIpv4Text) {
  RuleSet rs = KubeIptablesGenerator().generate(ipv6_seed(), "master");
  EXPECT_TRUE(rs.text.empty());
  EXPECT_THAT(rs.text6, HasSubstr("*nat"));
  EXPECT_EQ(rs.text6, KubeIptablesGenerator().generate(dual_seed(), "master").text6);
}

// The chain hashes take the endpoint as kube-proxy prints it, "[IP]:PORT".
TEST(KubeIptablesIpv6, EndpointChainsHashTheBracketedEndpoint) {
  const std::string text = restore6(dual_seed());
  const std::string sep = kube::sep_chain(kSpn, "tcp", "[fd00:10:32::3]:80");
  EXPECT_THAT(text, HasSubstr(":" + sep + " - [0:0]"));
  EXPECT_THAT(text, HasSubstr("-A " + sep + " -m comment --comment " + kSpn + " -s fd00:10:32::3 -j KUBE-MARK-MASQ"));
  EXPECT_THAT(text, HasSubstr("-m tcp -p tcp -j DNAT --to-destination [fd00:10:32::3]:80"));
  // The Service chains are named by the Service port alone, the same in both families.
  EXPECT_THAT(text, HasSubstr(kube::svc_chain(kSpn, "tcp")));
}

TEST(KubeIptablesIpv6, MasqueradesOffClusterTrafficByTheIpv6PodCidr) {
  const std::string text = restore6(dual_seed());
  EXPECT_THAT(text, HasSubstr("-d fd00:10:96::bc49 --dport 80 ! -s fd00:10:32::/64 -j KUBE-MARK-MASQ"));
  EXPECT_THAT(text, HasSubstr("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" "
                              "-j MASQUERADE"));
}

// kube-proxy's IPv6 proxier never serves NodePorts on ::1 and has no
// route_localnet block; the IPv4 one keeps its localhost rules.
TEST(KubeIptablesIpv6, NoLocalhostNodePorts) {
  const std::string text = restore6(dual_seed());
  EXPECT_THAT(text, HasSubstr("-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS"));
  EXPECT_THAT(text, Not(HasSubstr("127.0.0.0/8")));
  EXPECT_THAT(text, Not(HasSubstr("KUBE-FIREWALL")));
  KubeIptablesGenerator::Options o;
  o.base_chain_jumps = false;
  EXPECT_THAT(KubeIptablesGenerator(o).restore_input(dual_seed(), "master", AF_INET), HasSubstr("127.0.0.0/8"));
}

TEST(KubeIptablesIpv6, RejectsWithIp6tablesDefault) {
  Cluster c = dual_seed();
  c.slices.pop_back();  // no IPv6 endpoints: the IPv6 ClusterIP rejects
  const std::string text = restore6(c);
  EXPECT_THAT(text, HasSubstr("has no endpoints\" -m tcp -p tcp -d fd00:10:96::bc49 --dport 80 -j REJECT"));
  // ip6tables' REJECT answers icmp6-port-unreachable unless told otherwise, as kube-proxy relies on.
  EXPECT_THAT(text, Not(HasSubstr("--reject-with")));
}

// A cluster with IPv6 SKIPs where a namespace has none (the doctor's `ipv6` probe).
TEST(Ipv6Needs, ClustersWithIpv6NeedIpv6InTheNamespaces) {
  EXPECT_THAT(KubeIptablesGenerator().needs(dual_seed()), ::testing::Contains(std::string(feature::kIpv6)));
  EXPECT_THAT(KubeNftablesGenerator().needs(ipv6_seed()), ::testing::Contains(std::string(feature::kIpv6)));
  EXPECT_THAT(KubeNftablesGenerator().needs(kpath_test::seed_cluster()),
              Not(::testing::Contains(std::string(feature::kIpv6))));
}

TEST(KubeNftablesIpv6, DualStackWritesAnIp6TableBesideTheIpTable) {
  KubeNftablesGenerator g;
  const std::string dual = g.generate(dual_seed(), "master").text;
  const std::string v4 = g.generate(kpath_test::seed_cluster(), "master").text;
  ASSERT_EQ(dual.substr(0, v4.size()), v4);  // the IPv4 table first, as it was
  const std::string v6 = dual.substr(v4.size());
  EXPECT_THAT(v6, HasSubstr("add table ip6 kube-proxy"));
  EXPECT_THAT(v6, HasSubstr("add set ip6 kube-proxy cluster-ips { type ipv6_addr ;"));
  EXPECT_THAT(v6, HasSubstr("add element ip6 kube-proxy cluster-ips { fd00:10:96::bc49 }"));
  EXPECT_THAT(v6, HasSubstr("ip6 daddr fd00:10:96::bc49 ip6 saddr != fd00:10:32::/64 jump mark-for-masquerade"));
  EXPECT_THAT(v6, HasSubstr("dnat to [fd00:10:32::3]:80"));
  EXPECT_THAT(v6, HasSubstr("ip6 daddr { fd00:10:96::/112 } drop"));
  EXPECT_THAT(v6, Not(HasSubstr(" ip ")));
  EXPECT_THAT(v6, Not(HasSubstr("10.103.188.73")));
}

TEST(KubeNftablesIpv6, NodePortsOnThePrimaryIpv6Address) {
  const std::string v6 = KubeNftablesGenerator().generate(ipv6_seed(), "master").text;
  EXPECT_THAT(v6, HasSubstr("add set ip6 kube-proxy nodeport-ips { type ipv6_addr ;"));
  EXPECT_THAT(v6, HasSubstr("add element ip6 kube-proxy nodeport-ips { 2001:db8:100::1 }"));
}

TEST(KubeNftablesIpv6, EndpointChainsUseKubeProxysIpv6Names) {
  const std::string v6 = KubeNftablesGenerator().generate(ipv6_seed(), "master").text;
  const std::string base = kube::nft_endpoint_base("default", "webapp1-nodeport-svc", "tcp", "", "fd00:10:32::3", 80);
  EXPECT_THAT(base, HasSubstr("fd00.10.32..3/80"));  // kube-proxy writes the colons as dots
  EXPECT_THAT(v6, HasSubstr("add chain ip6 kube-proxy endpoint-" + base));
  EXPECT_THAT(v6, Not(HasSubstr("table ip kube-proxy")));
}

// nodePortAddresses ::/0: every local address but ::1 (by default only the primary one).
TEST(KubeNftablesIpv6, NoLocalhostNodePorts) {
  Cluster c = ipv6_seed();
  c.proxy.node_port_addresses = {Cidr::from("::/0")};
  const std::string v6 = KubeNftablesGenerator().generate(c, "master").text;
  EXPECT_THAT(v6, HasSubstr("fib daddr type local ip6 daddr != ::1 meta l4proto . th dport vmap @service-nodeports"));
  EXPECT_THAT(v6, HasSubstr("nodeport-endpoints-check ip6 daddr != ::1 meta l4proto"));
}

}  // namespace
