#include "harness/generators/kube_nftables.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "harness/generators/kube_hash.h"
#include "tests/generators/reference_cluster.h"
#include "tests/generators/ruleset_compare.h"
#include "tests/support/privileges.h"

namespace {

using namespace harness;
using kpath_test::endpoint;
using kpath_test::slice;
using kpath_test::small_cluster;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

kpath_test::NftDump dump(const Cluster& c, const std::string& node) {
  KubeNftablesGenerator::Options o;
  o.replace_table = false;
  return kpath_test::parse_nft(KubeNftablesGenerator(o).generate(c, node).text);
}

std::vector<std::string> rules(const kpath_test::NftDump& d, const std::string& chain) {
  auto it = d.rules.find(chain);
  return it == d.rules.end() ? std::vector<std::string>{} : it->second;
}

const std::string kBase = kube::nft_service_base("web", "api", "tcp", "http");

std::string ep_chain(const std::string& ip, uint16_t port) {
  return "endpoint-" + kube::nft_endpoint_base("web", "api", "tcp", "http", ip, port);
}

TEST(KubeNftables, NameBackendFactory) {
  KubeNftablesGenerator g;
  EXPECT_EQ(g.name(), "kube-nftables");
  EXPECT_EQ(g.generate(small_cluster(), "n1").backend, RuleBackend::Nft);
  EXPECT_THROW(g.generate(small_cluster(), "nope"), std::exception);
}

TEST(KubeNftables, DeclarationsComeFirstAndReplaceTable) {
  Cluster c = small_cluster();
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  std::string text = KubeNftablesGenerator().generate(c, "n1").text;
  EXPECT_TRUE(
      text.starts_with("add table ip kube-proxy { comment \"rules for kube-proxy\" ; }\n"
                       "flush table ip kube-proxy\n"))
      << text;
  // Every typed map and set is flushed before its elements are added; affinity sets are not.
  EXPECT_THAT(text, HasSubstr("\nflush map ip kube-proxy service-ips\n"));
  EXPECT_THAT(text, HasSubstr("\nflush set ip kube-proxy cluster-ips\n"));
  EXPECT_THAT(text, Not(HasSubstr("delete table")));
  size_t last_decl = 0, first_body = std::string::npos, pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string l = text.substr(pos, nl - pos);
    if (l.starts_with("add rule") || l.starts_with("add element") || l.starts_with("flush map") ||
        l.starts_with("flush set")) {
      if (first_body == std::string::npos) first_body = line_no;
    } else if (l.starts_with("add ")) {
      last_decl = line_no;
    }
    ++line_no;
    pos = nl + 1;
  }
  EXPECT_LT(last_decl, first_body);
}

// --detect-local-mode=BridgeInterface / InterfaceNamePrefix: iifname matches
// (kube-proxy's nftables LocalTrafficDetector).
TEST(KubeNftables, DetectLocalModes) {
  Cluster c = small_cluster();
  c.services[0].external_traffic_policy = TrafficPolicy::Local;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  c.proxy.detect_local_mode = DetectLocalMode::BridgeInterface;
  c.proxy.detect_local_interface = "cbr0";
  auto d = dump(c, "n1");
  EXPECT_EQ(rules(d, "service-" + kBase)[0], "ip daddr 10.96.0.10 iifname != \"cbr0\" jump mark-for-masquerade");
  c.proxy.detect_local_mode = DetectLocalMode::InterfaceNamePrefix;
  c.proxy.detect_local_interface = "veth";
  EXPECT_EQ(rules(dump(c, "n1"), "external-" + kBase)[0],
            "iifname \"veth*\" goto service-" + kBase + " comment \"short-circuit pod traffic\"");
}

TEST(KubeNftables, SeedService) {
  Cluster c = kpath_test::seed_cluster();
  auto d = dump(c, "master");
  const std::string base = kube::nft_service_base("default", "webapp1-nodeport-svc", "tcp", "");
  const std::string ep3 = "endpoint-" +
                          kube::nft_endpoint_base("default", "webapp1-nodeport-svc", "tcp", "", "10.32.0.3", 80);
  const std::string ep5 = "endpoint-" +
                          kube::nft_endpoint_base("default", "webapp1-nodeport-svc", "tcp", "", "10.32.0.5", 80);
  EXPECT_THAT(rules(d, "service-" + base),
              ElementsAre("ip daddr 10.103.188.73 ip saddr != 10.32.0.0/12 jump mark-for-masquerade",
                          "numgen random mod 2 vmap { 0 : goto " + ep3 + " , 1 : goto " + ep5 + " }"));
  EXPECT_THAT(rules(d, "external-" + base), ElementsAre("jump mark-for-masquerade", "goto service-" + base));
  EXPECT_THAT(rules(d, ep3),
              ElementsAre("ip saddr 10.32.0.3 jump mark-for-masquerade", "meta l4proto tcp dnat to 10.32.0.3:80"));
  EXPECT_THAT(d.other,
              Contains("add element ip kube-proxy service-nodeports { tcp . 30080 : goto external-" + base + " }"));
  // Default nodePortAddresses in nftables mode: the node's primary IP.
  EXPECT_THAT(d.other, Contains("add element ip kube-proxy nodeport-ips { 192.168.100.1 }"));
}

// nftables mode (kube-proxy 1.29+) names an unnamed port's chains
// "HASH-ns/name/proto/" (empty port name last) and spells its ServicePortName
// without a colon: base32(sha256("default/webapp1-nodeport-svc/tcp/")) starts
// I7QVGOXS (computed independently of kpath).
TEST(KubeNftables, UnnamedPortNames) {
  Cluster c = kpath_test::seed_cluster();
  EXPECT_THAT(dump(c, "master").other, Contains("add element ip kube-proxy service-nodeports { tcp . 30080 : goto "
                                                "external-I7QVGOXS-default/webapp1-nodeport-svc/tcp/ }"));
  c.slices.clear();
  auto d = dump(c, "master");
  EXPECT_THAT(d.other, Contains("add element ip kube-proxy no-endpoint-services { 10.103.188.73 . tcp . 80 comment "
                                "\"default/webapp1-nodeport-svc\" : goto reject-chain }"));
  EXPECT_THAT(d.other, Contains("add element ip kube-proxy no-endpoint-nodeports { tcp . 30080 comment "
                                "\"default/webapp1-nodeport-svc\" : goto reject-chain }"));
}

TEST(KubeNftables, NoEndpointsReject) {
  Cluster c = small_cluster();
  auto d = dump(c, "n1");
  EXPECT_THAT(d.other, Contains("add element ip kube-proxy no-endpoint-services { 10.96.0.10 . tcp . 80 comment "
                                "\"web/api:http\" : goto reject-chain }"));
  EXPECT_THAT(d.other, Contains("add element ip kube-proxy no-endpoint-nodeports { tcp . 30080 comment "
                                "\"web/api:http\" : goto reject-chain }"));
  EXPECT_THAT(d.other, Contains("add element ip kube-proxy cluster-ips { 10.96.0.10 }"));
  EXPECT_THAT(d.other, Not(Contains("add chain ip kube-proxy service-" + kBase)));
}

TEST(KubeNftables, ExternalTrafficPolicyLocalWithoutLocalEndpointDrops) {
  Cluster c = small_cluster();
  c.services[0].external_traffic_policy = TrafficPolicy::Local;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.2.5", "n2")}));
  auto d = dump(c, "n1");
  EXPECT_THAT(d.other, Contains("add element ip kube-proxy no-endpoint-nodeports { tcp . 30080 comment "
                                "\"web/api:http\" : drop }"));
  EXPECT_THAT(rules(d, "external-" + kBase),
              ElementsAre("ip saddr 10.244.0.0/16 goto service-" + kBase + " comment \"short-circuit pod traffic\"",
                          "fib saddr type local jump mark-for-masquerade comment \"masquerade local traffic\"",
                          "fib saddr type local goto service-" + kBase + " comment \"short-circuit local traffic\""));
  // With a local endpoint: the local chain, and external traffic goes there.
  c.slices[0].endpoints.push_back(endpoint("10.244.1.5", "n1"));
  d = dump(c, "n1");
  EXPECT_EQ(rules(d, "external-" + kBase).back(), "goto local-" + kBase);
  EXPECT_THAT(rules(d, "local-" + kBase),
              ElementsAre("numgen random mod 1 vmap { 0 : goto " + ep_chain("10.244.1.5", 8080) + " }"));
}

TEST(KubeNftables, InternalTrafficPolicyLocalWithoutLocalEndpointDrops) {
  Cluster c = small_cluster();
  c.services[0].type = ServiceType::ClusterIP;
  c.services[0].internal_traffic_policy = TrafficPolicy::Local;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.2.5", "n2")}));
  auto d = dump(c, "n1");
  EXPECT_THAT(d.other, Contains("add element ip kube-proxy no-endpoint-services { 10.96.0.10 . tcp . 80 comment "
                                "\"web/api:http\" : drop }"));
  d = dump(c, "n2");
  EXPECT_THAT(d.other,
              Contains("add element ip kube-proxy service-ips { 10.96.0.10 . tcp . 80 : goto local-" + kBase + " }"));
}

TEST(KubeNftables, SessionAffinity) {
  Cluster c = small_cluster();
  c.services[0].session_affinity_client_ip = true;
  c.services[0].session_affinity_timeout = 60;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  auto d = dump(c, "n1");
  const std::string eb = kube::nft_endpoint_base("web", "api", "tcp", "http", "10.244.1.1", 8080);
  EXPECT_THAT(d.other, Contains("add set ip kube-proxy affinity-" + eb +
                                " { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }"));
  EXPECT_EQ(rules(d, "service-" + kBase)[1], "ip saddr @affinity-" + eb + " goto endpoint-" + eb);
  EXPECT_EQ(rules(d, "endpoint-" + eb)[1], "update @affinity-" + eb + " { ip saddr }");
}

TEST(KubeNftables, NodePortAddresses) {
  Cluster c = small_cluster();
  c.proxy.node_port_addresses = {Cidr::from("172.16.0.0/12")};
  auto d = dump(c, "n1");
  EXPECT_THAT(d.other, Contains("add element ip kube-proxy nodeport-ips { 172.16.0.1 }"));
  EXPECT_THAT(d.other, Not(Contains("add element ip kube-proxy nodeport-ips { 10.1.0.1 }")));

  c.proxy.node_port_addresses = {Cidr::from("0.0.0.0/0")};
  d = dump(c, "n1");
  EXPECT_THAT(rules(d, "services"),
              ElementsAre("ip daddr . meta l4proto . th dport vmap @service-ips",
                          "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap "
                          "@service-nodeports"));
  for (const auto& l : d.other) EXPECT_THAT(l, Not(HasSubstr("nodeport-ips")));
}

TEST(KubeNftables, MasqueradeAllAndMark) {
  Cluster c = small_cluster();
  c.proxy.masquerade_all = true;
  c.proxy.masquerade_bit = 5;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  auto d = dump(c, "n1");
  EXPECT_EQ(rules(d, "service-" + kBase)[0], "ip daddr 10.96.0.10 jump mark-for-masquerade");
  EXPECT_THAT(rules(d, "mark-for-masquerade"), ElementsAre("mark set mark or 0x20"));
  EXPECT_THAT(rules(d, "masquerading"),
              ElementsAre("mark and 0x20 == 0 return", "mark set mark xor 0x20", "masquerade fully-random"));
}

TEST(KubeNftables, LoadBalancerSourceRanges) {
  Cluster c = small_cluster();
  Service& s = c.services[0];
  s.type = ServiceType::LoadBalancer;
  s.load_balancer_ips = {Ip::from("198.51.100.4")};
  s.load_balancer_source_ranges = {Cidr::from("203.0.113.0/24"), Cidr::from("10.1.0.0/16")};
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  auto d = dump(c, "n1");
  EXPECT_THAT(rules(d, "firewall-" + kBase),
              ElementsAre("ip saddr != { 203.0.113.0/24 , 10.1.0.0/16 , 198.51.100.4 } drop"));
  EXPECT_THAT(d.other, Contains("add element ip kube-proxy firewall-ips { 198.51.100.4 . tcp . 80 : goto firewall-" +
                                kBase + " }"));
}

// kube-proxy 1.34 (kubernetes PR 132722): a family's ranges holding a
// zero-length one allow every source, the same rules as no ranges at all.
TEST(KubeNftables, ZeroSourceRangeIsNoRanges) {
  Cluster c = small_cluster();
  Service& s = c.services[0];
  s.type = ServiceType::LoadBalancer;
  s.load_balancer_ips = {Ip::from("198.51.100.4")};
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  const std::string without = KubeNftablesGenerator().generate(c, "n1").text;
  EXPECT_THAT(without, Not(HasSubstr("firewall-" + kBase)));
  for (const auto& ranges : {std::vector<Cidr>{Cidr::from("0.0.0.0/0")},
                             std::vector<Cidr>{Cidr::from("203.0.113.0/24"), Cidr::from("0.0.0.0/0")}}) {
    s.load_balancer_source_ranges = ranges;
    EXPECT_EQ(KubeNftablesGenerator().generate(c, "n1").text, without);
  }
  // Only a zero-length range of the proxier's own family counts: ::/0 leaves the IPv4 ranges.
  s.load_balancer_source_ranges = {Cidr::from("203.0.113.0/24"), Cidr::from("::/0")};
  EXPECT_THAT(rules(dump(c, "n1"), "firewall-" + kBase), ElementsAre("ip saddr != { 203.0.113.0/24 } drop"));
}

void expect_installs(const std::string& text, const std::string& name) {
  std::string path = ::testing::TempDir() + "kpath-gen-" + name + ".nft";
  {
    std::ofstream out(path);
    out << text;
  }
  // Twice: a re-apply must replace the table.
  std::string cmd = "unshare -n sh -c 'nft -f " + path + " && nft -f " + path + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) output += buf;
  int rc = pclose(p);
  EXPECT_EQ(rc, 0) << name << ": " << output;
  std::remove(path.c_str());
}

TEST(KubeNftablesKernel, InstallsIntoEmptyNamespace) {
  KPATH_REQUIRE_NET_ADMIN();
  if (std::system("command -v nft >/dev/null && command -v unshare >/dev/null") != 0)
    GTEST_SKIP() << "nft or unshare missing";
  KubeNftablesGenerator g;
  expect_installs(g.generate(kpath_test::seed_cluster(), "master").text, "seed");
  Cluster ref = kpath_test::kube_proxy_reference_cluster();
  ref.proxy.node_port_addresses = {Cidr::from("192.168.0.2/32")};
  expect_installs(g.generate(ref, "test-node").text, "reference");
  Cluster c = small_cluster();
  c.services[0].session_affinity_client_ip = true;
  c.services[0].type = ServiceType::LoadBalancer;
  c.services[0].external_traffic_policy = TrafficPolicy::Local;
  c.services[0].internal_traffic_policy = TrafficPolicy::Local;
  c.services[0].load_balancer_ips = {Ip::from("198.51.100.4")};
  c.services[0].load_balancer_source_ranges = {Cidr::from("203.0.113.0/24")};
  c.proxy.node_port_addresses = {Cidr::from("0.0.0.0/0")};
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}},
                           {endpoint("10.244.1.1", "n1"), endpoint("10.244.1.2", "n2")}));
  expect_installs(g.generate(c, "n1").text, "small");
}

// What `sh -c SCRIPT` prints in a fresh network namespace, with its exit status.
std::pair<int, std::string> in_fresh_netns(const std::string& script) {
  std::string cmd = "unshare -n sh -c '" + script + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) output += buf;
  return {pclose(p), output};
}

std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "kpath-gen-" + name + ".nft";
  std::ofstream(path) << text;
  return path;
}

TEST(KubeNftablesKernel, ResyncKeepsAffinityElementsAndDropsStaleMapEntries) {
  KPATH_REQUIRE_NET_ADMIN();
  if (std::system("command -v nft >/dev/null && command -v unshare >/dev/null") != 0)
    GTEST_SKIP() << "nft or unshare missing";
  Cluster c = small_cluster();
  c.services[0].session_affinity_client_ip = true;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}},
                           {endpoint("10.244.1.1", "n1"), endpoint("10.244.1.2", "n2")}));
  const std::string first = write_temp("affinity-1", KubeNftablesGenerator().generate(c, "n1").text);
  // The next sync: 10.244.1.2 is gone, 10.244.1.1 stays.
  c.slices[0].endpoints.pop_back();
  const std::string second = write_temp("affinity-2", KubeNftablesGenerator().generate(c, "n1").text);
  const std::string kept = "affinity-" + kube::nft_endpoint_base("web", "api", "tcp", "http", "10.244.1.1", 8080);
  auto [rc, out] = in_fresh_netns("nft -f " + first + " && nft add element ip kube-proxy " + kept +
                                  " { 192.168.10.100 } && nft -f " + second + " && nft list set ip kube-proxy " + kept +
                                  " && nft list chain ip kube-proxy service-" +
                                  kube::nft_service_base("web", "api", "tcp", "http"));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_THAT(out, HasSubstr("192.168.10.100"));  // the client still sticks to its endpoint
  const std::string gone = "endpoint-" + kube::nft_endpoint_base("web", "api", "tcp", "http", "10.244.1.2", 8080);
  EXPECT_THAT(out, Not(HasSubstr("goto " + gone)));
  std::remove(first.c_str());
  std::remove(second.c_str());
}

}  // namespace
