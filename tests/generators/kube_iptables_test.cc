#include "harness/generators/kube_iptables.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <tuple>

#include "harness/generators/kube_hash.h"
#include "netns/namespace.h"
#include "netns/process.h"
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

kpath_test::IptablesDump dump(const Cluster& c, const std::string& node, bool nfacct = false) {
  KubeIptablesGenerator::Options o;
  o.base_chain_jumps = false;
  o.nfacct = nfacct;
  return kpath_test::parse_iptables_restore(KubeIptablesGenerator(o).generate(c, node).text);
}

std::vector<std::string> rules(const kpath_test::IptablesDump& d, const std::string& table, const std::string& chain) {
  auto t = d.rules.find(table);
  if (t == d.rules.end()) return {};
  auto c = t->second.find(chain);
  return c == t->second.end() ? std::vector<std::string>{} : c->second;
}

const std::string kSpn = "web/api:http";

TEST(KubeIptables, NameAndBackend) {
  KubeIptablesGenerator g;
  EXPECT_EQ(g.name(), "kube-iptables");
  EXPECT_EQ(g.generate(small_cluster(), "n1").backend, RuleBackend::IptablesRestore);
}

TEST(KubeIptables, UnknownNodeThrows) {
  EXPECT_THROW(KubeIptablesGenerator().generate(small_cluster(), "nope"), std::exception);
}

// The seed's port has no name: "default/webapp1-nodeport-svc" since kube-proxy
// 1.19 (golden_test.cc works the hashes out).
TEST(KubeIptables, SeedChainNames) {
  Cluster c = kpath_test::seed_cluster();
  auto d = dump(c, "master");
  EXPECT_THAT(d.declared["nat"], Contains("KUBE-SVC-X42AMYO3K4UIBY54"));
  EXPECT_THAT(d.declared["nat"], Contains("KUBE-EXT-X42AMYO3K4UIBY54"));
  EXPECT_THAT(d.declared["nat"], Contains("KUBE-SEP-2TLLNKO2PCM76THV"));
  EXPECT_THAT(d.declared["nat"], Contains("KUBE-SEP-S3F2XG3TQFIWHLAG"));
  EXPECT_THAT(rules(d, "nat", "KUBE-NODEPORTS"),
              ElementsAre("-m comment --comment default/webapp1-nodeport-svc -m tcp -p tcp --dport 30080 "
                          "-j KUBE-EXT-X42AMYO3K4UIBY54"));
  EXPECT_THAT(rules(d, "nat", "KUBE-SVC-X42AMYO3K4UIBY54"),
              ElementsAre("-m comment --comment \"default/webapp1-nodeport-svc cluster IP\" -m tcp -p tcp "
                          "-d 10.103.188.73 --dport 80 ! -s 10.32.0.0/12 -j KUBE-MARK-MASQ",
                          "-m comment --comment \"default/webapp1-nodeport-svc -> 10.32.0.3:80\" -m statistic "
                          "--mode random --probability 0.5000000000 -j KUBE-SEP-2TLLNKO2PCM76THV",
                          "-m comment --comment \"default/webapp1-nodeport-svc -> 10.32.0.5:80\" "
                          "-j KUBE-SEP-S3F2XG3TQFIWHLAG"));
}

// What a chain's rules jump to, in order.
std::vector<std::string> jump_targets(const std::vector<std::string>& chain_rules) {
  std::vector<std::string> out;
  for (const auto& r : chain_rules) out.push_back(r.substr(r.rfind("-j ") + 3));
  return out;
}

// The seed dump (cases/seed/) is a real 2019 kube-proxy's, before 1.19: the
// option must give its chain names and comments, wired the same way.
TEST(KubeIptables, Pre119PortNamesAreTheSeedDumpsNames) {
  KubeIptablesGenerator::Options o;
  o.base_chain_jumps = false;
  o.pre_1_19_port_names = true;
  const std::string text = KubeIptablesGenerator(o).generate(kpath_test::seed_cluster(), "master").text;
  auto d = kpath_test::parse_iptables_restore(text);
  auto seed = kpath_test::parse_iptables_restore(
      kpath_test::read_file(KPATH_SOURCE_DIR "/cases/seed/webapp1-nodeport.iptables-save"));
  auto service_chains = [](const kpath_test::IptablesDump& x) {
    std::set<std::string> out;
    for (const auto& c : x.declared.at("nat"))
      if (c.starts_with("KUBE-SVC-") || c.starts_with("KUBE-SEP-")) out.insert(c);
    return out;
  };
  EXPECT_EQ(service_chains(d), (std::set<std::string>{"KUBE-SVC-J2DWGRZTH4C2LPA4", "KUBE-SEP-YLXG4RMKAICGY2B3",
                                                      "KUBE-SEP-4CGFRVESQ3AECDE7"}));
  EXPECT_EQ(service_chains(d), service_chains(seed));
  // Both pick YLXG4... (10.32.0.3) first, then 4CGFR... The generated chain
  // starts with the ClusterIP masquerade mark, which the 2019 dump has in KUBE-SERVICES.
  auto svc = jump_targets(rules(d, "nat", "KUBE-SVC-J2DWGRZTH4C2LPA4"));
  EXPECT_EQ(std::vector<std::string>(svc.begin() + 1, svc.end()),
            jump_targets(rules(seed, "nat", "KUBE-SVC-J2DWGRZTH4C2LPA4")));
  EXPECT_THAT(text, HasSubstr("--comment \"default/webapp1-nodeport-svc: cluster IP\""));
  EXPECT_THAT(rules(d, "nat", "KUBE-SEP-YLXG4RMKAICGY2B3"),
              ElementsAre("-m comment --comment default/webapp1-nodeport-svc: -s 10.32.0.3 -j KUBE-MARK-MASQ",
                          "-m comment --comment default/webapp1-nodeport-svc: -m tcp -p tcp -j DNAT "
                          "--to-destination 10.32.0.3:80"));
  // A named port is spelled the same either way.
  EXPECT_EQ(KubeIptablesGenerator(o).generate(kpath_test::kube_proxy_reference_cluster(), "test-node").text,
            KubeIptablesGenerator().restore_input(kpath_test::kube_proxy_reference_cluster(), "test-node"));
}

TEST(KubeIptables, ProbabilitiesForFiveEndpoints) {
  Cluster c = small_cluster();
  std::vector<Endpoint> eps;
  for (int i = 1; i <= 5; ++i) eps.push_back(endpoint("10.244.1." + std::to_string(i), "n2"));
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, eps));
  auto svc = rules(dump(c, "n1"), "nat", kube::svc_chain(kSpn, "tcp"));
  ASSERT_EQ(svc.size(), 6u);  // masquerade rule + 5 endpoints
  const char* expected[] = {"0.2000000000", "0.2500000000", "0.3333333333", "0.5000000000"};
  for (int i = 0; i < 4; ++i) {
    std::string ep = "10.244.1." + std::to_string(i + 1) + ":8080";
    EXPECT_EQ(svc[i + 1], "-m comment --comment \"" + kSpn + " -> " + ep +
                              "\" -m statistic --mode random "
                              "--probability " +
                              expected[i] + " -j " + kube::sep_chain(kSpn, "tcp", ep));
  }
  EXPECT_EQ(svc[5], "-m comment --comment \"" + kSpn + " -> 10.244.1.5:8080\" -j " +
                        kube::sep_chain(kSpn, "tcp", "10.244.1.5:8080"));
}

TEST(KubeIptables, NoEndpointsRejects) {
  Cluster c = small_cluster();
  c.services[0].external_ips = {Ip::from("192.0.2.10")};
  auto d = dump(c, "n1");
  EXPECT_THAT(rules(d, "filter", "KUBE-SERVICES"),
              ElementsAre("-m comment --comment \"web/api:http has no endpoints\" -m tcp -p tcp -d 10.96.0.10 "
                          "--dport 80 -j REJECT"));
  EXPECT_THAT(rules(d, "filter", "KUBE-EXTERNAL-SERVICES"),
              ElementsAre("-m comment --comment \"web/api:http has no endpoints\" -m tcp -p tcp -d 192.0.2.10 "
                          "--dport 80 -j REJECT",
                          "-m comment --comment \"web/api:http has no endpoints\" -m addrtype --dst-type LOCAL "
                          "-m tcp -p tcp --dport 30080 -j REJECT"));
  // No per-service nat chains at all.
  EXPECT_THAT(d.declared["nat"], Not(Contains(kube::svc_chain(kSpn, "tcp"))));
  EXPECT_THAT(d.declared["nat"], Not(Contains(kube::ext_chain(kSpn, "tcp"))));
  EXPECT_TRUE(rules(d, "nat", "KUBE-NODEPORTS").empty());
}

TEST(KubeIptables, NoEndpointsRejectsUdpToo) {
  Cluster c = small_cluster();
  c.services[0].ports[0].protocol = Protocol::UDP;
  auto d = dump(c, "n1");
  EXPECT_THAT(rules(d, "filter", "KUBE-SERVICES"),
              ElementsAre("-m comment --comment \"web/api:http has no endpoints\" -m udp -p udp -d 10.96.0.10 "
                          "--dport 80 -j REJECT"));
}

TEST(KubeIptables, ExternalTrafficPolicyLocalWithoutLocalEndpointDrops) {
  Cluster c = small_cluster();
  c.services[0].external_traffic_policy = TrafficPolicy::Local;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.2.5", "n2")}));
  auto d = dump(c, "n1");
  EXPECT_THAT(rules(d, "filter", "KUBE-EXTERNAL-SERVICES"),
              ElementsAre("-m comment --comment \"web/api:http has no local endpoints\" -m addrtype --dst-type "
                          "LOCAL -m tcp -p tcp --dport 30080 -j DROP"));
  const std::string ext = kube::ext_chain(kSpn, "tcp"), svc = kube::svc_chain(kSpn, "tcp");
  // Short-circuit: pods and the node itself still reach the remote endpoint.
  EXPECT_THAT(rules(d, "nat", ext),
              ElementsAre("-m comment --comment \"pod traffic for web/api:http external destinations\" "
                          "-s 10.244.0.0/16 -j " +
                              svc,
                          "-m comment --comment \"masquerade LOCAL traffic for web/api:http external "
                          "destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ",
                          "-m comment --comment \"route LOCAL traffic for web/api:http external destinations\" "
                          "-m addrtype --src-type LOCAL -j " +
                              svc));
  EXPECT_THAT(d.declared["nat"], Not(Contains(kube::svl_chain(kSpn, "tcp"))));
  // ClusterIP unaffected.
  EXPECT_TRUE(rules(d, "filter", "KUBE-SERVICES").empty());
}

TEST(KubeIptables, ExternalTrafficPolicyLocalUsesOnlyLocalEndpoints) {
  Cluster c = small_cluster();
  c.services[0].external_traffic_policy = TrafficPolicy::Local;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}},
                           {endpoint("10.244.1.5", "n1"), endpoint("10.244.2.5", "n2")}));
  auto d = dump(c, "n1");
  const std::string ext = kube::ext_chain(kSpn, "tcp"), svl = kube::svl_chain(kSpn, "tcp");
  EXPECT_TRUE(rules(d, "filter", "KUBE-EXTERNAL-SERVICES").empty());
  auto e = rules(d, "nat", ext);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[3], "-j " + svl);
  EXPECT_THAT(rules(d, "nat", svl), ElementsAre("-m comment --comment \"web/api:http -> 10.244.1.5:8080\" -j " +
                                                kube::sep_chain(kSpn, "tcp", "10.244.1.5:8080")));
  // The cluster chain still has both (for ClusterIP and short-circuited traffic).
  EXPECT_EQ(rules(d, "nat", kube::svc_chain(kSpn, "tcp")).size(), 3u);
}

TEST(KubeIptables, InternalTrafficPolicyLocal) {
  Cluster c = small_cluster();
  c.services[0].type = ServiceType::ClusterIP;
  c.services[0].internal_traffic_policy = TrafficPolicy::Local;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.2.5", "n2")}));
  auto d = dump(c, "n1");
  EXPECT_THAT(rules(d, "filter", "KUBE-SERVICES"),
              ElementsAre("-m comment --comment \"web/api:http has no local endpoints\" -m tcp -p tcp "
                          "-d 10.96.0.10 --dport 80 -j DROP"));
  auto d2 = dump(c, "n2");
  const std::string svl = kube::svl_chain(kSpn, "tcp");
  EXPECT_THAT(rules(d2, "nat", "KUBE-SERVICES")[0], HasSubstr("-j " + svl));
  EXPECT_THAT(d2.declared["nat"], Not(Contains(kube::svc_chain(kSpn, "tcp"))));
  EXPECT_EQ(rules(d2, "nat", svl).size(), 2u);  // masquerade + one endpoint
}

TEST(KubeIptables, TerminatingEndpointsOnlyWhenNoneReady) {
  Cluster c = small_cluster();
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}},
                           {endpoint("10.244.1.1", "n1", false, true, true),   // serving, terminating
                            endpoint("10.244.1.2", "n1", false, false, true),  // not serving
                            endpoint("10.244.1.3", "n2", true)}));             // ready
  auto svc = rules(dump(c, "n1"), "nat", kube::svc_chain(kSpn, "tcp"));
  ASSERT_EQ(svc.size(), 2u);
  EXPECT_THAT(svc[1], HasSubstr("10.244.1.3:8080"));

  c.slices[0].endpoints[2].ready = false;  // now none ready
  c.slices[0].endpoints[2].serving = false;
  svc = rules(dump(c, "n1"), "nat", kube::svc_chain(kSpn, "tcp"));
  ASSERT_EQ(svc.size(), 2u);
  EXPECT_THAT(svc[1], HasSubstr("10.244.1.1:8080"));
}

TEST(KubeIptables, NamedTargetPortFromSlice) {
  Cluster c = small_cluster();
  c.services[0].ports[0].target_port = 0;
  c.services[0].ports[0].target_port_name = "web";
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 9090}}, {endpoint("10.244.1.1", "n1")}));
  auto d = dump(c, "n1");
  const std::string sep = kube::sep_chain(kSpn, "tcp", "10.244.1.1:9090");
  EXPECT_THAT(rules(d, "nat", sep)[1], HasSubstr("--to-destination 10.244.1.1:9090"));
}

TEST(KubeIptables, NamedTargetPortFromPodWhenSliceHasNoPorts) {
  Cluster c = small_cluster();
  c.services[0].ports[0].target_port = 0;
  c.services[0].ports[0].target_port_name = "web";
  Pod pod;
  pod.name = "api-1";
  pod.node = "n1";
  pod.ips = {Ip::from("10.244.1.1")};
  pod.listen = {ListenPort{7070, Protocol::TCP, "web"}};
  c.pods.push_back(pod);
  Endpoint ep = endpoint("10.244.1.1", "n1");
  ep.pod_name = "api-1";
  c.slices.push_back(slice("web", "api", {}, {ep}));
  auto d = dump(c, "n1");
  EXPECT_THAT(d.declared["nat"], Contains(kube::sep_chain(kSpn, "tcp", "10.244.1.1:7070")));
}

TEST(KubeIptables, SessionAffinity) {
  Cluster c = small_cluster();
  c.services[0].session_affinity_client_ip = true;
  c.services[0].session_affinity_timeout = 60;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}},
                           {endpoint("10.244.1.1", "n1"), endpoint("10.244.1.2", "n2")}));
  auto d = dump(c, "n1");
  const std::string sep1 = kube::sep_chain(kSpn, "tcp", "10.244.1.1:8080");
  auto svc = rules(d, "nat", kube::svc_chain(kSpn, "tcp"));
  ASSERT_EQ(svc.size(), 5u);
  EXPECT_EQ(svc[1], "-m comment --comment \"web/api:http -> 10.244.1.1:8080\" -m recent --name " + sep1 +
                        " --rcheck --seconds 60 --reap -j " + sep1);
  EXPECT_EQ(rules(d, "nat", sep1)[1], "-m comment --comment web/api:http -m recent --name " + sep1 +
                                          " --set -m tcp -p tcp -j DNAT --to-destination 10.244.1.1:8080");
}

TEST(KubeIptables, MasqueradeAllAndRandomFully) {
  Cluster c = small_cluster();
  c.proxy.masquerade_all = true;
  c.proxy.random_fully = true;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  auto d = dump(c, "n1");
  EXPECT_EQ(rules(d, "nat", kube::svc_chain(kSpn, "tcp"))[0],
            "-m comment --comment \"web/api:http cluster IP\" -m tcp -p tcp -d 10.96.0.10 --dport 80 "
            "-j KUBE-MARK-MASQ");
  EXPECT_THAT(rules(d, "nat", "KUBE-POSTROUTING"),
              ElementsAre("-m mark ! --mark 0x4000/0x4000 -j RETURN", "-j MARK --xor-mark 0x4000",
                          "-m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE "
                          "--random-fully"));
}

TEST(KubeIptables, NoLocalDetectorNoMasqueradeRule) {
  Cluster c = small_cluster();
  c.proxy.cluster_cidr.reset();
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  auto svc = rules(dump(c, "n1"), "nat", kube::svc_chain(kSpn, "tcp"));
  ASSERT_EQ(svc.size(), 1u);
}

// --detect-local-mode=InterfaceNamePrefix / NodeCIDR: kube-proxy's
// "-i veth+" shapes in the ClusterIP masquerade and the Local policy short-circuit.
TEST(KubeIptables, DetectLocalModes) {
  Cluster c = small_cluster();
  c.services[0].external_traffic_policy = TrafficPolicy::Local;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  c.proxy.detect_local_mode = DetectLocalMode::InterfaceNamePrefix;
  c.proxy.detect_local_interface = "veth";
  auto d = dump(c, "n1");
  EXPECT_EQ(rules(d, "nat", kube::svc_chain(kSpn, "tcp"))[0],
            "-m comment --comment \"web/api:http cluster IP\" -m tcp -p tcp -d 10.96.0.10 --dport 80 ! -i veth+ -j "
            "KUBE-MARK-MASQ");
  EXPECT_EQ(rules(d, "nat", kube::ext_chain(kSpn, "tcp"))[0],
            "-m comment --comment \"pod traffic for web/api:http external destinations\" -i veth+ -j " +
                kube::svc_chain(kSpn, "tcp"));
  c.proxy.detect_local_mode = DetectLocalMode::NodeCIDR;
  c.nodes[0].pod_cidr = Cidr::from("10.244.1.0/24");
  EXPECT_THAT(rules(dump(c, "n1"), "nat", kube::svc_chain(kSpn, "tcp"))[0], HasSubstr(" ! -s 10.244.1.0/24 -j"));
}

TEST(KubeIptables, MasqueradeBit) {
  Cluster c = small_cluster();
  c.proxy.masquerade_bit = 5;
  EXPECT_THAT(rules(dump(c, "n1"), "nat", "KUBE-MARK-MASQ"), ElementsAre("-j MARK --or-mark 0x20"));
}

TEST(KubeIptables, NodePortAddressesList) {
  Cluster c = small_cluster();
  c.nodes[0].ips.push_back(Ip::from("172.16.0.1"));
  c.proxy.node_port_addresses = {Cidr::from("10.1.0.0/24")};
  auto d = dump(c, "n1");
  auto s = rules(d, "nat", "KUBE-SERVICES");
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.back(),
            "-m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in "
            "this chain\" -d 10.1.0.1 -j KUBE-NODEPORTS");
  // Loopback not among the addresses: no localhost NodePorts, no KUBE-FIREWALL.
  EXPECT_THAT(d.declared["filter"], Not(Contains("KUBE-FIREWALL")));
}

TEST(KubeIptables, NodePortAddressesPrimary) {
  Cluster c = small_cluster();
  c.proxy.node_port_addresses_primary = true;
  auto s = rules(dump(c, "n1"), "nat", "KUBE-SERVICES");
  EXPECT_THAT(s.back(), HasSubstr("-d 10.1.0.1 -j KUBE-NODEPORTS"));
}

TEST(KubeIptables, LocalhostNodePortsOff) {
  Cluster c = small_cluster();
  c.proxy.localhost_node_ports = false;
  auto d = dump(c, "n1");
  EXPECT_EQ(rules(d, "nat", "KUBE-SERVICES").back(),
            "-m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this "
            "chain\" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS");
  EXPECT_THAT(d.declared["filter"], Not(Contains("KUBE-FIREWALL")));
}

TEST(KubeIptables, LocalhostNodePortsOnWithNfacct) {
  Cluster c = small_cluster();
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  auto d = dump(c, "n1", /*nfacct=*/true);
  const std::string ext = kube::ext_chain(kSpn, "tcp");
  EXPECT_THAT(rules(d, "nat", "KUBE-NODEPORTS"),
              ElementsAre("-m comment --comment web/api:http -m tcp -p tcp -d 127.0.0.0/8 --dport 30080 -m nfacct "
                          "--nfacct-name localhost_nps_accepted_pkts -j " +
                              ext,
                          "-m comment --comment web/api:http -m tcp -p tcp --dport 30080 -j " + ext));
  EXPECT_THAT(rules(d, "filter", "KUBE-FIREWALL"),
              ElementsAre("-m comment --comment \"block incoming localnet connections\" -d 127.0.0.0/8 "
                          "! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP"));
  EXPECT_EQ(rules(d, "filter", "KUBE-FORWARD")[0],
            "-m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP");
  auto plain = dump(c, "n1", /*nfacct=*/false);
  EXPECT_EQ(rules(plain, "nat", "KUBE-NODEPORTS").size(), 1u);
  EXPECT_EQ(rules(plain, "filter", "KUBE-FORWARD")[0], "-m conntrack --ctstate INVALID -j DROP");
}

TEST(KubeIptables, LoadBalancerSourceRangesIncludingNode) {
  Cluster c = small_cluster();
  Service& s = c.services[0];
  s.type = ServiceType::LoadBalancer;
  s.load_balancer_ips = {Ip::from("198.51.100.4")};
  s.load_balancer_source_ranges = {Cidr::from("203.0.113.0/24"), Cidr::from("10.1.0.0/16")};
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  auto d = dump(c, "n1");
  const std::string fw = kube::fw_chain(kSpn, "tcp"), ext = kube::ext_chain(kSpn, "tcp");
  EXPECT_THAT(rules(d, "nat", fw),
              ElementsAre("-m comment --comment \"web/api:http loadbalancer IP\" -s 203.0.113.0/24 -j " + ext,
                          "-m comment --comment \"web/api:http loadbalancer IP\" -s 10.1.0.0/16 -j " + ext,
                          "-m comment --comment \"web/api:http loadbalancer IP\" -s 198.51.100.4 -j " + ext,
                          "-m comment --comment \"other traffic to web/api:http will be dropped by "
                          "KUBE-PROXY-FIREWALL\""));
  EXPECT_THAT(rules(d, "filter", "KUBE-PROXY-FIREWALL"),
              ElementsAre("-m comment --comment \"web/api:http traffic not accepted by " + fw +
                          "\" -m tcp -p tcp -d 198.51.100.4 --dport 80 -j DROP"));
  // NodePort traffic is not filtered by the ranges.
  EXPECT_THAT(rules(d, "nat", "KUBE-NODEPORTS").back(), HasSubstr("-j " + ext));
}

// kube-proxy 1.34 (kubernetes PR 132722): a family's ranges holding a
// zero-length one allow every source, the same rules as no ranges at all.
TEST(KubeIptables, ZeroSourceRangeIsNoRanges) {
  Cluster c = small_cluster();
  Service& s = c.services[0];
  s.type = ServiceType::LoadBalancer;
  s.load_balancer_ips = {Ip::from("198.51.100.4")};
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}}, {endpoint("10.244.1.1", "n1")}));
  KubeIptablesGenerator g;
  const std::string without = g.restore_input(c, "n1");
  EXPECT_THAT(without, Not(HasSubstr("KUBE-FW-")));
  for (const auto& ranges : {std::vector<Cidr>{Cidr::from("0.0.0.0/0")},
                             std::vector<Cidr>{Cidr::from("203.0.113.0/24"), Cidr::from("0.0.0.0/0")}}) {
    s.load_balancer_source_ranges = ranges;
    EXPECT_EQ(g.restore_input(c, "n1"), without);
  }
  // Only a zero-length range of the proxier's own family counts: ::/0 leaves the IPv4 ranges.
  s.load_balancer_source_ranges = {Cidr::from("203.0.113.0/24"), Cidr::from("::/0")};
  EXPECT_THAT(g.restore_input(c, "n1"), HasSubstr("-s 203.0.113.0/24 -j " + kube::ext_chain(kSpn, "tcp")));
}

TEST(KubeIptables, HealthCheckNodePortOnlyForLocalLoadBalancer) {
  Cluster c = small_cluster();
  c.services[0].health_check_node_port = 31000;
  EXPECT_TRUE(rules(dump(c, "n1"), "filter", "KUBE-NODEPORTS").empty());
  c.services[0].type = ServiceType::LoadBalancer;
  c.services[0].external_traffic_policy = TrafficPolicy::Local;
  EXPECT_THAT(rules(dump(c, "n1"), "filter", "KUBE-NODEPORTS"),
              ElementsAre("-m comment --comment \"web/api:http health check node port\" -m tcp -p tcp "
                          "--dport 31000 -j ACCEPT"));
}

TEST(KubeIptables, HeadlessAndIpv6ServicesSkipped) {
  Cluster c = small_cluster();
  c.services[0].cluster_ip.reset();
  auto d = dump(c, "n1");
  EXPECT_TRUE(rules(d, "filter", "KUBE-SERVICES").empty());
  EXPECT_EQ(rules(d, "nat", "KUBE-SERVICES").size(), 1u);  // only the KUBE-NODEPORTS tail call
}

TEST(KubeIptables, BaseChainJumps) {
  KubeIptablesGenerator g;
  auto jumps = kpath_test::parse_iptables_restore(g.base_chain_jumps());
  EXPECT_THAT(rules(jumps, "nat", "PREROUTING"),
              ElementsAre("-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"));
  EXPECT_THAT(rules(jumps, "nat", "OUTPUT"),
              ElementsAre("-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"));
  EXPECT_THAT(rules(jumps, "nat", "POSTROUTING"),
              ElementsAre("-m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING"));
  EXPECT_THAT(rules(jumps, "filter", "FORWARD"),
              ElementsAre("-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" "
                          "-j KUBE-PROXY-FIREWALL",
                          "-m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD",
                          "-m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" "
                          "-j KUBE-SERVICES",
                          "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible "
                          "service portals\" -j KUBE-EXTERNAL-SERVICES"));
  EXPECT_EQ(rules(jumps, "filter", "INPUT").size(), 4u);
  EXPECT_EQ(rules(jumps, "filter", "OUTPUT").size(), 3u);

  // generate() includes them, declares the built-in chains and KUBE-FIREWALL.
  Cluster c = small_cluster();
  c.proxy.localhost_node_ports = false;
  auto full = kpath_test::parse_iptables_restore(g.generate(c, "n1").text);
  EXPECT_EQ(rules(full, "filter", "FORWARD"), rules(jumps, "filter", "FORWARD"));
  EXPECT_EQ(rules(full, "nat", "PREROUTING"), rules(jumps, "nat", "PREROUTING"));
  EXPECT_THAT(full.declared["filter"], Contains("KUBE-FIREWALL"));
  EXPECT_THAT(full.declared["nat"], Contains("POSTROUTING"));
}

// Installs text with iptables-restore in a throwaway network namespace.
void expect_installs(const std::string& text, const std::string& name) {
  std::string path = ::testing::TempDir() + "kpath-gen-" + name + ".rules";
  {
    std::ofstream out(path);
    out << text;
  }
  std::string cmd = "unshare -n sh -c 'iptables-restore < " + path + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) output += buf;
  int rc = pclose(p);
  EXPECT_EQ(rc, 0) << name << ": " << output;
  std::remove(path.c_str());
}

// kube-proxy's TestSyncProxyRulesRepeated: ns1/svc1 and ns2/svc2, one endpoint each.
Cluster repeated_sync_cluster() {
  Cluster c;
  c.pod_cidr = Cidr::from("10.0.0.0/8");
  c.service_cidr = Cidr::from("172.30.0.0/16");
  c.proxy.cluster_cidr = c.pod_cidr;
  Node n;
  n.name = "test-node";
  n.ips = {Ip::from("192.168.0.2")};
  c.nodes.push_back(n);
  for (const auto& [ns, ip, port, ep] :
       {std::tuple{"ns1", "172.30.0.41", 80, "10.0.1.1"}, std::tuple{"ns2", "172.30.0.42", 8080, "10.0.2.1"}}) {
    Service s;
    s.ns = ns;
    s.name = ns == std::string("ns1") ? "svc1" : "svc2";
    s.type = ServiceType::ClusterIP;
    s.cluster_ip = Ip::from(ip);
    ServicePort p;
    p.name = "p" + std::to_string(port);
    p.protocol = Protocol::TCP;
    p.port = static_cast<uint16_t>(port);
    s.ports.push_back(p);
    c.services.push_back(s);
    c.slices.push_back(
        slice(ns, s.name, {{p.name, Protocol::TCP, static_cast<uint16_t>(port)}}, {endpoint(ep, "other-node")}));
  }
  return c;
}

// The sync after ns2/svc2 is deleted declares its chains and deletes them
// (-X) before the KUBE-NODEPORTS tail call: kube-proxy's expected output for
// that step, plus svc1's unchanged chains, which kpath rewrites at every sync
// (kube-proxy 1.28+ skips them in a partial sync).
TEST(KubeIptables, ResyncDeletesStaleChainsAsKubeProxy) {
  Cluster c = repeated_sync_cluster();
  KubeIptablesGenerator g;
  const std::string first = g.restore_input(c, "test-node");
  c.services.pop_back();
  c.slices.pop_back();
  const std::string resync = with_stale_chains_deleted(g.restore_input(c, "test-node"), nat_chains(first));
  const std::string nat = resync.substr(resync.find("*nat\n"));
  const std::string expected = R"(*nat
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-SNQ3ZNILQDEJNDQO - [0:0]
:KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
:KUBE-SEP-UHEGFW77JX3KXTOV - [0:0]
:KUBE-SVC-2VJB64SDSIJUP5T6 - [0:0]
-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ
-A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.0.1.1:80" -j KUBE-SEP-SNQ3ZNILQDEJNDQO
-X KUBE-SEP-UHEGFW77JX3KXTOV
-X KUBE-SVC-2VJB64SDSIJUP5T6
COMMIT
)";
  EXPECT_EQ(kpath_test::diff(kpath_test::parse_iptables_restore(expected), kpath_test::parse_iptables_restore(nat)),
            "");
  // Where kube-proxy writes them: after every other rule, right before the tail call.
  EXPECT_THAT(nat, HasSubstr("-X KUBE-SEP-UHEGFW77JX3KXTOV\n-X KUBE-SVC-2VJB64SDSIJUP5T6\n-A KUBE-SERVICES -m comment "
                             "--comment \"kubernetes service nodeports;"));
  // Nothing stale: the text is left as it was; chains not kube-proxy's own are never deleted.
  const std::string again = g.restore_input(c, "test-node");
  EXPECT_EQ(with_stale_chains_deleted(again, nat_chains(again)), again);
  EXPECT_EQ(with_stale_chains_deleted(again, {"KUBE-SERVICES", "KUBE-KUBELET-CANARY", "MY-CHAIN"}), again);
  EXPECT_EQ(nat_chains(first).size(), 8u);
}

TEST(KubeIptables, ServiceChainNames) {
  for (const char* c : {"KUBE-SVC-X", "KUBE-SVL-X", "KUBE-EXT-X", "KUBE-FW-X", "KUBE-SEP-X"})
    EXPECT_TRUE(is_service_chain(c)) << c;
  for (const char* c : {"KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-MARK-MASQ", "KUBE-XLB-X", "FOO"})
    EXPECT_FALSE(is_service_chain(c)) << c;
}

TEST(KubeIptablesKernel, InstallsIntoEmptyNamespace) {
  KPATH_REQUIRE_NET_ADMIN();
  if (std::system("command -v iptables-restore >/dev/null && command -v unshare >/dev/null") != 0)
    GTEST_SKIP() << "iptables-restore or unshare missing";
  KubeIptablesGenerator g;
  expect_installs(g.generate(kpath_test::seed_cluster(), "master").text, "seed");
  expect_installs(g.generate(kpath_test::kube_proxy_reference_cluster(), "test-node").text, "reference");
  Cluster c = small_cluster();
  c.services[0].session_affinity_client_ip = true;
  c.services[0].type = ServiceType::LoadBalancer;
  c.services[0].external_traffic_policy = TrafficPolicy::Local;
  c.services[0].load_balancer_ips = {Ip::from("198.51.100.4")};
  c.services[0].load_balancer_source_ranges = {Cidr::from("203.0.113.0/24")};
  c.services[0].health_check_node_port = 31000;
  c.proxy.random_fully = true;
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}},
                           {endpoint("10.244.1.1", "n1"), endpoint("10.244.1.2", "n2")}));
  expect_installs(g.generate(c, "n1").text, "small");
}

// Through apply(), as the runner re-syncs a node: after an endpoint is
// removed, the node's nat table holds no chain for it.
TEST(KubeIptablesKernel, ResyncLeavesNoChainForARemovedEndpoint) {
  KPATH_REQUIRE_NET_ADMIN();
  if (std::system("command -v iptables-nft-restore >/dev/null && command -v iptables-nft-save >/dev/null") != 0)
    GTEST_SKIP() << "iptables-nft-restore or iptables-nft-save missing";
  const netns::Namespace ns = netns::Namespace::create();
  Cluster c = small_cluster();
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}},
                           {endpoint("10.244.1.1", "n1"), endpoint("10.244.1.2", "n2")}));
  KubeIptablesGenerator g;
  g.apply(c, "n1", ns, g.generate(c, "n1"), ApplyOptions{});
  const std::string gone = kube::sep_chain(kSpn, "tcp", "10.244.1.2:8080");
  auto nat = [&] { return netns::run_process(ns, {"iptables-nft-save", "-t", "nat"}).out; };
  ASSERT_THAT(nat(), HasSubstr(":" + gone + " "));
  c.slices[0].endpoints.pop_back();
  ApplyOptions resync;
  resync.first = false;
  Applied applied = g.apply(c, "n1", ns, g.generate(c, "n1"), resync);
  EXPECT_THAT(applied.rules.text, HasSubstr("\n-X " + gone + "\n"));
  EXPECT_THAT(nat(), Not(HasSubstr(gone)));
  EXPECT_THAT(nat(), HasSubstr(":" + kube::sep_chain(kSpn, "tcp", "10.244.1.1:8080") + " "));
  // With nothing stale the next sync deletes nothing.
  EXPECT_THAT(g.apply(c, "n1", ns, g.generate(c, "n1"), resync).rules.text, Not(HasSubstr("\n-X ")));
}

// The IPv6 proxier's re-sync reads ip6tables-save: an IPv6-only cluster.
TEST(KubeIptablesKernel, Ipv6ResyncLeavesNoChainForARemovedEndpoint) {
  KPATH_REQUIRE_NET_ADMIN();
  if (std::system("command -v ip6tables-nft-restore >/dev/null && command -v ip6tables-nft-save >/dev/null") != 0)
    GTEST_SKIP() << "ip6tables-nft-restore or ip6tables-nft-save missing";
  const netns::Namespace ns = netns::Namespace::create();
  Cluster c = small_cluster();
  c.pod_cidr = Cidr::from("fd00:10:244::/56");
  c.service_cidr = Cidr::from("fd00:10:96::/112");
  c.pod_cidrs = {c.pod_cidr};
  c.service_cidrs = {c.service_cidr};
  c.proxy.cluster_cidr = c.pod_cidr;
  for (auto& n : c.nodes) n.ips = {Ip::from(n.name == "n1" ? "2001:db8:a::1" : "2001:db8:a::2")};
  c.services[0].cluster_ip = Ip::from("fd00:10:96::a");
  c.services[0].cluster_ips = {*c.services[0].cluster_ip};
  c.slices.push_back(slice("web", "api", {{"http", Protocol::TCP, 8080}},
                           {endpoint("fd00:10:244::a", "n1"), endpoint("fd00:10:244:1::a", "n2")}));
  c.slices[0].family = AF_INET6;
  KubeIptablesGenerator g;
  ASSERT_FALSE(g.generate(c, "n1").text6.empty());
  g.apply(c, "n1", ns, g.generate(c, "n1"), ApplyOptions{});
  const std::string gone = kube::sep_chain(kSpn, "tcp", "[fd00:10:244:1::a]:8080");
  auto nat = [&] { return netns::run_process(ns, {"ip6tables-nft-save", "-t", "nat"}).out; };
  ASSERT_THAT(nat(), HasSubstr(":" + gone + " "));
  c.slices[0].endpoints.pop_back();
  ApplyOptions resync;
  resync.first = false;
  EXPECT_THAT(g.apply(c, "n1", ns, g.generate(c, "n1"), resync).rules.text6, HasSubstr("\n-X " + gone + "\n"));
  EXPECT_THAT(nat(), Not(HasSubstr(gone)));
}

}  // namespace
