// IPv6 and dual-stack clusters as the loader reads them: the CIDR lists, the
// per-family addresses, Services' families and ClusterIPs, slices per
// addressType and expectations' `family:`.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "base/error.h"
#include "harness/cases/case_loader.h"

namespace {

using kpath::Cidr;
using kpath::Ip;

const std::string kDualCluster =
    "cluster:\n"
    "  podCIDR: [10.32.0.0/12, fd00:10:32::/64]\n"
    "  serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]\n"
    "  nodes:\n"
    "    - name: n1\n"
    "      ips: [192.168.100.1, 2001:db8:100::1]\n"
    "      pods:\n"
    "        - {name: a, ips: [10.32.0.3, fd00:10:32::3], labels: {app: web}, listen: [{port: 80}]}\n"
    "        - {name: b, ips: [10.32.0.4, fd00:10:32::4], labels: {app: web}, listen: [{port: 80}]}\n"
    "  externals:\n"
    "    - {name: client, ips: [192.168.100.2, 2001:db8:100::2]}\n";

std::string dual_case(const std::string& spec, const std::string& expect) {
  return "apiVersion: kpath/v1\nkind: Case\nname: t\n" + kDualCluster +
         "objects:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec:\n"
         "      type: NodePort\n      selector: {app: web}\n"
         "      ports: [{port: 80, targetPort: 80, nodePort: 30080}]\n" +
         spec + "expect:\n" + expect;
}

const std::string kRequireDual =
    "      ipFamilyPolicy: RequireDualStack\n      clusterIPs: [10.96.0.10, fd00:10:96::a]\n";

TEST(DualStack, CidrListsKeepThePrimaryFirst) {
  harness::Case c = harness::parse_case(dual_case(kRequireDual, "  - {from: client, to: n1:30080}\n"), "t.yaml");
  ASSERT_EQ(c.cluster.pod_cidrs.size(), 2u);
  EXPECT_EQ(c.cluster.pod_cidr, Cidr::from("10.32.0.0/12"));
  EXPECT_EQ(c.cluster.service_cidr, Cidr::from("10.96.0.0/12"));
  EXPECT_EQ(c.cluster.service_cidr_of(AF_INET6), Cidr::from("fd00:10:96::/112"));
  EXPECT_EQ(c.cluster.families(), (std::vector<int>{AF_INET, AF_INET6}));
  // Each family's proxier detects local traffic by that family's podCIDR.
  EXPECT_EQ(c.cluster.proxy.cluster_cidr_of(AF_INET), Cidr::from("10.32.0.0/12"));
  EXPECT_EQ(c.cluster.proxy.cluster_cidr_of(AF_INET6), Cidr::from("fd00:10:32::/64"));
}

TEST(DualStack, RequireDualStackServiceHasAClusterIpPerFamily) {
  harness::Case c = harness::parse_case(dual_case(kRequireDual, "  - {from: client, to: n1:30080}\n"), "t.yaml");
  const harness::Service& s = c.cluster.services.at(0);
  EXPECT_EQ(s.ip_family_policy, harness::IpFamilyPolicy::RequireDualStack);
  EXPECT_EQ(*s.cluster_ip, Ip::from("10.96.0.10"));
  EXPECT_EQ(s.cluster_ip_of(AF_INET6), Ip::from("fd00:10:96::a"));
  EXPECT_EQ(s.cluster_ips.size(), 2u);
}

TEST(DualStack, SlicesAreDerivedPerAddressType) {
  harness::Case c = harness::parse_case(dual_case(kRequireDual, "  - {from: client, to: n1:30080}\n"), "t.yaml");
  auto slices = c.cluster.slices_for(c.cluster.services.at(0));
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_EQ(slices[0]->name, "web-kpath");
  EXPECT_EQ(slices[0]->family, AF_INET);
  EXPECT_EQ(slices[1]->name, "web-kpath-ipv6");
  EXPECT_EQ(slices[1]->family, AF_INET6);
  ASSERT_EQ(slices[1]->endpoints.size(), 2u);
  // One address per endpoint, of the slice's family.
  EXPECT_EQ(slices[1]->endpoints[0].addresses, std::vector<Ip>{Ip::from("fd00:10:32::3")});
  EXPECT_EQ(slices[1]->endpoints[0].pod_name, "a");
}

TEST(DualStack, SingleStackServiceInDualClusterGetsOneFamily) {
  harness::Case c = harness::parse_case(dual_case("      ipFamilies: [IPv6]\n      clusterIP: fd00:10:96::a\n",
                                                  "  - {from: client, to: n1:30080}\n"),
                                        "t.yaml");
  auto slices = c.cluster.slices_for(c.cluster.services.at(0));
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0]->family, AF_INET6);
  EXPECT_FALSE(c.cluster.services.at(0).cluster_ip_of(AF_INET));
}

TEST(DualStack, FamilyPicksTheTargetAddress) {
  harness::Case c = harness::parse_case(dual_case(kRequireDual,
                                                  "  - {name: v6, from: client, to: n1:30080, family: IPv6}\n"
                                                  "  - {name: primary, from: client, to: n1:30080}\n"
                                                  "  - {from: a, to: default/web:80, family: IPv6}\n"
                                                  "  - {from: client, to: \"[fd00:10:96::a]:80\"}\n"),
                                        "t.yaml");
  EXPECT_EQ(c.cluster.address_of(c.expect[0].to), Ip::from("2001:db8:100::1"));
  EXPECT_EQ(c.cluster.address_of(c.expect[1].to), Ip::from("192.168.100.1"));  // the primary family
  EXPECT_EQ(c.cluster.address_of(c.expect[2].to), Ip::from("fd00:10:96::a"));
  EXPECT_EQ(c.expect[3].to.str(), "[fd00:10:96::a]:80");
  // The IPv6 ClusterIP is the Service's: the oracle finds its port.
  auto hit = c.cluster.service_port_at(Ip::from("fd00:10:96::a"), 80, harness::Protocol::TCP, "");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->kind, harness::FlowKind::ClusterIP);
}

TEST(DualStack, IpFamilyPolicyPreferDualStackOnDualClusterNeedsBoth) {
  try {
    harness::parse_case(dual_case("      ipFamilyPolicy: PreferDualStack\n      clusterIP: 10.96.0.10\n",
                                  "  - {from: client, to: n1:30080}\n"),
                        "t.yaml");
    FAIL() << "loaded";
  } catch (const kpath::Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs a clusterIP of each family"), std::string::npos) << e.what();
  }
}

TEST(DualStack, IpFamilyPolicyPreferDualStackOnSingleStackClusterIsOneFamily) {
  harness::Case c = harness::parse_case(
      "apiVersion: kpath/v1\nkind: Case\nname: t\n"
      "cluster:\n  podCIDR: fd00:10:32::/64\n  serviceCIDR: fd00:10:96::/112\n"
      "  nodes:\n    - name: n1\n      ip: 2001:db8:100::1\n      pods:\n"
      "        - {name: a, ip: \"fd00:10:32::3\", labels: {app: web}, listen: [{port: 80}]}\n"
      "objects:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec:\n"
      "      ipFamilyPolicy: PreferDualStack\n      clusterIP: fd00:10:96::a\n      selector: {app: web}\n"
      "      ports: [{port: 80}]\n"
      "expect:\n  - {from: n1, to: default/web:80}\n",
      "t.yaml");
  EXPECT_EQ(c.cluster.families(), std::vector<int>{AF_INET6});
  EXPECT_EQ(c.cluster.proxy.cluster_cidr_of(AF_INET6), Cidr::from("fd00:10:32::/64"));
  EXPECT_FALSE(c.cluster.proxy.cluster_cidr_of(AF_INET));
  EXPECT_EQ(c.cluster.address_of(c.expect[0].to), Ip::from("fd00:10:96::a"));
}

TEST(DualStack, SingleStackIpv4CaseIsUnchanged) {
  harness::Case c = harness::parse_case(
      "apiVersion: kpath/v1\nkind: Case\nname: t\n"
      "cluster:\n  podCIDR: 10.32.0.0/12\n  serviceCIDR: 10.96.0.0/12\n"
      "  nodes:\n    - name: n1\n      ip: 192.168.100.1\n      pods:\n"
      "        - {name: a, ip: 10.32.0.3, labels: {app: web}, listen: [{port: 80}]}\n"
      "objects:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec:\n"
      "      clusterIP: 10.96.0.10\n      selector: {app: web}\n      ports: [{port: 80}]\n"
      "expect:\n  - {from: n1, to: default/web:80}\n",
      "t.yaml");
  EXPECT_EQ(c.cluster.families(), std::vector<int>{AF_INET});
  EXPECT_EQ(c.cluster.proxy.cluster_cidr, Cidr::from("10.32.0.0/12"));
  ASSERT_EQ(c.cluster.slices.size(), 1u);
  EXPECT_EQ(c.cluster.slices[0].name, "web-kpath");
  EXPECT_EQ(c.cluster.slices[0].family, AF_INET);
}

}  // namespace
