// status.loadBalancer.ingress[].ipMode: a Proxy-mode ingress IP gets no rule
// from either generator (kube-proxy 1.30+) and enters no Service in the oracle.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "base/error.h"
#include "harness/cases/case_loader.h"
#include "harness/generators/kube_iptables.h"
#include "harness/generators/kube_nftables.h"
#include "harness/verdict/flow.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string lb_case(const std::string& ingress, const std::string& to = "198.51.100.10:80") {
  return "apiVersion: kpath/v1\nkind: Case\nname: t\n"
         "cluster:\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/16\n"
         "  nodes:\n    - name: node-a\n      ip: 192.168.10.1\n      pods:\n"
         "        - {name: web, ip: 10.244.0.10, labels: {app: web}, listen: [{port: 80}]}\n"
         "        - {name: client, ip: 10.244.0.20}\n"
         "objects:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec:\n"
         "      type: LoadBalancer\n      clusterIP: 10.96.10.5\n      selector: {app: web}\n"
         "      ports: [{port: 80, nodePort: 30080}]\n"
         "    status: {loadBalancer: {ingress: " +
         ingress + "}}\nexpect:\n  - {from: client, to: '" + to + "'}\n";
}

const std::string kIngress =
    "[{ip: 198.51.100.10}, {ip: 198.51.100.11, ipMode: Proxy}, {ip: 198.51.100.12, ipMode: VIP}]";

TEST(LoadBalancerIpMode, ProxyModeIngressGetsNoRules) {
  harness::Case c = harness::parse_case(lb_case(kIngress), "t.yaml");
  const harness::Service& s = c.cluster.services.at(0);
  EXPECT_EQ(s.load_balancer_ips.size(), 2u);
  ASSERT_EQ(s.load_balancer_proxy_ips.size(), 1u);
  EXPECT_EQ(s.load_balancer_proxy_ips[0].str(), "198.51.100.11");
  const std::string ipt = harness::KubeIptablesGenerator().generate(c.cluster, "node-a").text;
  const std::string nft = harness::KubeNftablesGenerator().generate(c.cluster, "node-a").text;
  for (const std::string& text : {ipt, nft}) {
    EXPECT_THAT(text, HasSubstr("198.51.100.10"));
    EXPECT_THAT(text, HasSubstr("198.51.100.12"));
    EXPECT_THAT(text, Not(HasSubstr("198.51.100.11")));
  }
}

TEST(LoadBalancerIpMode, TheOracleSeesNoServiceBehindAProxyModeIngress) {
  harness::Case vip = harness::parse_case(lb_case(kIngress), "t.yaml");
  EXPECT_EQ(harness::resolve_flow(vip.cluster, vip.expect.at(0)).service, "default/web");
  harness::Case proxy = harness::parse_case(lb_case(kIngress, "198.51.100.11:80"), "t.yaml");
  EXPECT_EQ(harness::resolve_flow(proxy.cluster, proxy.expect.at(0)).service, "");
}

TEST(LoadBalancerIpMode, UnknownModeIsALoadError) {
  EXPECT_THROW(harness::parse_case(lb_case("[{ip: 198.51.100.10, ipMode: Tunnel}]"), "t.yaml"), kpath::Error);
}

}  // namespace
