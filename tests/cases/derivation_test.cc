// EndpointSlice derivation and the model details that only small inline cases show.
#include <gtest/gtest.h>

#include "harness/cases/case_loader.h"
#include "base/error.h"
#include "tests/cases/temp_dir.h"

namespace {

// A case with the given pods (under node n1) and objects; one trivial expectation.
std::string make_case(const std::string& pods, const std::string& objects, const std::string& top = "") {
  return "apiVersion: kpath/v1\nkind: Case\nname: t\n" + top +
         "cluster:\n  podCIDR: 10.32.0.0/12\n  serviceCIDR: 10.96.0.0/12\n"
         "  nodes:\n    - name: n1\n      ip: 192.168.100.1\n      pods:\n" +
         pods + "objects:\n" + objects + "expect:\n  - {from: n1, to: 10.96.0.10:80}\n";
}

const std::string kPods =
    "        - {name: a, ip: 10.32.0.3, labels: {app: web}, listen: [{port: 8080, name: http}]}\n"
    "        - {name: b, ip: 10.32.0.4, labels: {app: web}, listen: [{port: 9090, name: http}]}\n"
    "        - {name: c, ip: 10.32.0.5, labels: {app: web}, listen: [{port: 8080, name: http}]}\n"
    "        - {name: d, ip: 10.32.0.6, labels: {app: db}}\n";

std::string service(const std::string& target_port, const std::string& extra = "") {
  return "  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec:\n"
         "      clusterIP: 10.96.0.10\n      selector: {app: web}\n"
         "      ports: [{port: 80, targetPort: " +
         target_port + "}]\n" + extra;
}

TEST(Derivation, NamedTargetPortSplitsSlicesByResolution) {
  harness::Case c = harness::parse_case(make_case(kPods, service("http")), "t.yaml");
  auto slices = c.cluster.slices_for(*c.cluster.service("default", "web"));
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_EQ(slices[0]->name, "web-kpath");
  EXPECT_EQ(slices[0]->ports[0].port, 8080);
  ASSERT_EQ(slices[0]->endpoints.size(), 2u);
  EXPECT_EQ(slices[0]->endpoints[0].pod_name, "a");
  EXPECT_EQ(slices[0]->endpoints[1].pod_name, "c");
  EXPECT_EQ(slices[1]->name, "web-kpath-2");
  EXPECT_EQ(slices[1]->ports[0].port, 9090);
  EXPECT_EQ(slices[1]->endpoints[0].pod_name, "b");
}

TEST(Derivation, NumericTargetPortGivesOneSlice) {
  harness::Case c = harness::parse_case(make_case(kPods, service("8000")), "t.yaml");
  ASSERT_EQ(c.cluster.slices.size(), 1u);
  EXPECT_EQ(c.cluster.slices[0].ports[0].port, 8000);
  EXPECT_EQ(c.cluster.slices[0].endpoints.size(), 3u);
  EXPECT_EQ(c.cluster.slices[0].endpoints[0].node_name, "n1");
}

TEST(Derivation, SelectorMatchingNothingMeansNoEndpoints) {
  std::string svc = service("80");
  svc.replace(svc.find("app: web"), 8, "app: none");
  harness::Case c = harness::parse_case(make_case(kPods, svc), "t.yaml");
  EXPECT_TRUE(c.cluster.slices.empty());
}

TEST(Derivation, ExplicitSliceReplacesDerivedOne) {
  std::string slice =
      "  - apiVersion: discovery.k8s.io/v1\n    kind: EndpointSlice\n"
      "    metadata: {name: web-x, labels: {kubernetes.io/service-name: web}}\n"
      "    addressType: IPv4\n    ports: [{port: 8080}]\n"
      "    endpoints:\n      - addresses: [10.32.0.3]\n        conditions: {ready: false, terminating: true}\n";
  harness::Case c = harness::parse_case(make_case(kPods, slice + service("8080")), "t.yaml");
  ASSERT_EQ(c.cluster.slices.size(), 1u);
  const auto& ep = c.cluster.slices[0].endpoints.at(0);
  EXPECT_EQ(c.cluster.slices[0].service, "web");
  EXPECT_EQ(ep.pod_name, "a");    // found by address
  EXPECT_EQ(ep.node_name, "n1");  // from the pod
  EXPECT_FALSE(ep.ready);
  EXPECT_FALSE(ep.serving);  // absent serving follows ready
  EXPECT_TRUE(ep.terminating);
  EXPECT_EQ(c.cluster.slices[0].where.line, 16);  // its "- apiVersion" line
}

TEST(Loader, RelativeRulesetIsResolvedAgainstTheCaseFolder) {
  kpath_test::TempDir dir;
  std::string dump = dir.write("dumps/x.iptables-save", "*nat\nCOMMIT\n");
  harness::Case c = harness::parse_case(make_case(kPods, service("80"),
                                                  "generator: ruleset:../dumps/x.iptables-save\n"),
                                        dir.path() + "/cases/t.yaml");
  ASSERT_TRUE(c.generator);
  EXPECT_EQ(c.generator->argument, dump);
  EXPECT_EQ(c.generator->str(), "ruleset:" + dump);
}

TEST(Loader, ProxyOptionsAndDefaults) {
  harness::Case c = harness::parse_case(
      make_case(kPods, service("80"),
                "proxy: {nodePortAddresses: primary, localhostNodePorts: false, randomFully: true}\n"),
      "t.yaml");
  EXPECT_TRUE(c.cluster.proxy.node_port_addresses_primary);
  EXPECT_FALSE(c.cluster.proxy.localhost_node_ports);
  EXPECT_TRUE(c.cluster.proxy.random_fully);
  EXPECT_EQ(c.cluster.proxy.cluster_cidr->str(), "10.32.0.0/12");
  EXPECT_EQ(c.expect[0].name, "n1 -> 10.96.0.10:80 TCP");
}

TEST(Loader, LocalhostTargetAndExceptions) {
  std::string text = make_case(kPods, service("80"));
  text += "  - from: n1/localhost\n    to: 127.0.0.1:30080\n    except: {kube-nftables: refused}\n";
  harness::Case c = harness::parse_case(text, "t.yaml");
  ASSERT_EQ(c.expect.size(), 2u);
  EXPECT_EQ(c.expect[1].from.kind, harness::Source::Kind::Node);
  EXPECT_EQ(c.expect[1].from.name, "n1");
  EXPECT_TRUE(c.expect[1].from.localhost);
  EXPECT_EQ(c.expect[1].from.str(), "n1/localhost");
  EXPECT_EQ(c.expect[1].to.kind, harness::Target::Kind::Address);
  EXPECT_EQ(c.expect[1].to.address, kpath::Ip::from("127.0.0.1"));
  EXPECT_EQ(c.expect[1].except.at("kube-nftables"), harness::Verdict::Refused);
}

TEST(Loader, WeightedAndOneOfBackends) {
  std::string text = make_case(kPods, service("80"));
  text +=
      "  - {from: n1, to: 'default/web:80', backends: {a: 2, b: 1}}\n"
      "  - {from: n1, to: '10.96.0.99:80', result: dropped}\n"
      "  - {from: d, to: 'default/web:80', backends: {one-of: [c]}}\n";
  harness::Case c = harness::parse_case(text, "t.yaml");
  EXPECT_EQ(c.expect[1].backends.kind, harness::BackendExpectation::Kind::Weighted);
  EXPECT_EQ(c.expect[1].backends.weights.at("a"), 2);
  EXPECT_EQ(c.expect[1].to.kind, harness::Target::Kind::Service);
  EXPECT_EQ(c.expect[1].to.name, "default/web");
  // An IPv6 literal needs a sender with IPv6 (dual_stack_test.cc reads one).
  EXPECT_EQ(c.expect[2].to.address, kpath::Ip::from("10.96.0.99"));
  EXPECT_EQ(c.expect[2].to.str(), "10.96.0.99:80");
  EXPECT_EQ(c.expect[3].backends.kind, harness::BackendExpectation::Kind::OneOf);
}

TEST(Loader, UnreadableFileIsAnError) {
  EXPECT_THROW(harness::load_case("/nonexistent/case.yaml"), kpath::Error);
  EXPECT_THROW(harness::find_case_files({"/nonexistent"}), kpath::Error);
}

}  // namespace
