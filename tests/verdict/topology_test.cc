// Topology-aware routing as the loader reads it (node zone labels, Service
// trafficDistribution and annotations, endpoint hints, derived slices) and as
// the oracle applies it on the node whose rules pick the endpoint.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "base/error.h"
#include "harness/cases/case_loader.h"
#include "harness/verdict/flow.h"

namespace {

using harness::Case;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Eligible = std::map<std::string, double>;

// node-a (zone-a): web-a1, web-a2, client-a; node-b (zone-b): web-b, client-b;
// node-c: no zone label, client-c.
const std::string kCluster =
    "apiVersion: kpath/v1\nkind: Case\nname: t\n"
    "cluster:\n"
    "  podCIDR: 10.244.0.0/16\n"
    "  serviceCIDR: 10.96.0.0/16\n"
    "  nodes:\n"
    "    - name: node-a\n"
    "      ip: 192.168.10.1\n"
    "      labels: {topology.kubernetes.io/zone: zone-a}\n"
    "      pods:\n"
    "        - {name: web-a1, ip: 10.244.0.10, labels: {app: web}, listen: [{port: 80}]}\n"
    "        - {name: web-a2, ip: 10.244.0.11, labels: {app: web}, listen: [{port: 80}]}\n"
    "        - {name: client-a, ip: 10.244.0.20}\n"
    "    - name: node-b\n"
    "      ip: 192.168.10.2\n"
    "      labels: {topology.kubernetes.io/zone: zone-b}\n"
    "      pods:\n"
    "        - {name: web-b, ip: 10.244.1.10, labels: {app: web}, listen: [{port: 80}]}\n"
    "        - {name: client-b, ip: 10.244.1.20}\n"
    "    - name: node-c\n"
    "      ip: 192.168.10.3\n"
    "      pods:\n"
    "        - {name: client-c, ip: 10.244.2.20}\n"
    "  externals:\n"
    "    - {name: client, ip: 192.168.10.100}\n";

// A NodePort Service default/web selecting app: web; `meta` and `spec` add keys.
std::string web(const std::string& spec, const std::string& meta = "") {
  return "objects:\n  - apiVersion: v1\n    kind: Service\n    metadata:\n      name: web\n" + meta +
         "    spec:\n      type: NodePort\n      clusterIP: 10.96.10.5\n      selector: {app: web}\n"
         "      ports: [{port: 80, nodePort: 30080}]\n" +
         spec;
}

// default/web's explicit slice with the three web pods' endpoints, each `hints` given.
std::string slice(const std::string& a1, const std::string& a2, const std::string& b) {
  auto ep = [](const std::string& ip, const std::string& hints) {
    return "      - {addresses: [" + ip + "]" + (hints.empty() ? "" : ", hints: {forZones: [" + hints + "]}") + "}\n";
  };
  return "  - apiVersion: discovery.k8s.io/v1\n    kind: EndpointSlice\n"
         "    metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}\n"
         "    addressType: IPv4\n    ports: [{port: 80}]\n    endpoints:\n" +
         ep("10.244.0.10", a1) + ep("10.244.0.11", a2) + ep("10.244.1.10", b);
}

Case load(const std::string& objects, const std::string& from, const std::string& to) {
  return harness::parse_case(kCluster + objects + "expect:\n  - {from: " + from + ", to: " + to + "}\n", "t.yaml");
}

Eligible eligible(const std::string& objects, const std::string& from, const std::string& to) {
  Case c = load(objects, from, to);
  return harness::resolve_flow(c.cluster, c.expect.at(0)).eligible;
}

const Eligible kZoneA = {{"web-a1", 1}, {"web-a2", 1}};
const Eligible kAll = {{"web-a1", 1}, {"web-a2", 1}, {"web-b", 1}};

TEST(Topology, LoaderKeepsZonesHintsAnnotationsAndTrafficDistribution) {
  Case c = load(web("      trafficDistribution: PreferClose\n",
                    "      annotations: {service.kubernetes.io/topology-mode: Auto}\n"),
                "client-a", "default/web:80");
  EXPECT_EQ(c.cluster.node("node-a")->zone(), "zone-a");
  EXPECT_EQ(c.cluster.node("node-c")->zone(), "");
  const harness::Service& s = c.cluster.services.at(0);
  EXPECT_EQ(s.traffic_distribution, "PreferClose");
  EXPECT_EQ(s.annotations.at("service.kubernetes.io/topology-mode"), "Auto");
  // Derived: each endpoint in its node's zone and, under PreferClose, hinted for it.
  ASSERT_EQ(c.cluster.slices.size(), 1u);
  const auto& eps = c.cluster.slices[0].endpoints;
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0].zone, "zone-a");
  EXPECT_THAT(eps[0].zone_hints, ElementsAre("zone-a"));
  EXPECT_THAT(eps[2].zone_hints, ElementsAre("zone-b"));
  Case explicit_slice = load(web("") + slice("{name: zone-a}, {name: zone-b}", "", ""), "client-a", "default/web:80");
  EXPECT_THAT(explicit_slice.cluster.slices.at(0).endpoints.at(0).zone_hints, ElementsAre("zone-a", "zone-b"));
}

TEST(Topology, DerivedSlicesHaveNoHintsWithoutPreferClose) {
  Case c = load(web("", "      annotations: {service.kubernetes.io/topology-mode: Auto}\n"), "client-a",
                "default/web:80");
  for (const auto& ep : c.cluster.slices.at(0).endpoints) EXPECT_TRUE(ep.zone_hints.empty());
}

TEST(Topology, BadValuesAreLoadErrors) {
  auto error = [](const std::string& objects) {
    try {
      load(objects, "client-a", "default/web:80");
    } catch (const kpath::Error& e) {
      return std::string(e.what());
    }
    return std::string("loaded");
  };
  EXPECT_THAT(error(web("      trafficDistribution: PreferSameNode\n")), HasSubstr("trafficDistribution"));
  EXPECT_THAT(error(web("") + slice("{name: zone-a}, {name: zone-a}", "", "")), HasSubstr("twice"));
  EXPECT_THAT(error(web("") + slice("{zone: zone-a}", "", "")), HasSubstr("zone"));
}

TEST(Topology, OracleNarrowsToTheZoneOfTheNodeWhoseRulesPick) {
  const std::string close = web("      trafficDistribution: PreferClose\n");
  EXPECT_EQ(eligible(close, "client-a", "default/web:80"), kZoneA);
  EXPECT_EQ(eligible(close, "node-b", "default/web:80"), (Eligible{{"web-b", 1}}));
  EXPECT_EQ(eligible(close, "client", "node-b:30080"), (Eligible{{"web-b", 1}}));
  // From outside, a ClusterIP is handled by the first node (zone-a).
  EXPECT_EQ(eligible(close, "client", "10.96.10.5:80"), kZoneA);
  // node-c has no zone label: every endpoint.
  EXPECT_EQ(eligible(close, "client-c", "default/web:80"), kAll);
}

TEST(Topology, OracleFallsBackToEveryEndpoint) {
  const std::string annotated = "      annotations: {service.kubernetes.io/topology-mode: Auto}\n";
  // Hints follow the hint, not the zone: web-a2 is hinted for zone-b.
  EXPECT_EQ(eligible(web("", annotated) + slice("{name: zone-a}", "{name: zone-b}", "{name: zone-b}"), "client-a",
                     "default/web:80"),
            (Eligible{{"web-a1", 1}}));
  // One ready endpoint without a hint.
  EXPECT_EQ(eligible(web("", annotated) + slice("{name: zone-a}", "", "{name: zone-b}"), "client-a", "default/web:80"),
            kAll);
  // No endpoint for this zone.
  EXPECT_EQ(eligible(web("", annotated) + slice("{name: zone-b}", "{name: zone-b}", "{name: zone-b}"), "client-a",
                     "default/web:80"),
            kAll);
  // Hints, but the Service asks for no topology (kube-proxy 1.31-1.32), or says Disabled.
  const std::string hinted = slice("{name: zone-a}", "{name: zone-a}", "{name: zone-b}");
  EXPECT_EQ(eligible(web("") + hinted, "client-a", "default/web:80"), kAll);
  EXPECT_EQ(eligible(web("", "      annotations: {service.kubernetes.io/topology-mode: Disabled}\n") + hinted,
                     "client-a", "default/web:80"),
            kAll);
  // The older annotation counts when the newer is absent.
  EXPECT_EQ(eligible(web("", "      annotations: {service.kubernetes.io/topology-aware-hints: auto}\n") + hinted,
                     "client-a", "default/web:80"),
            kZoneA);
}

TEST(Topology, OracleLeavesExternalTrafficPolicyLocalAlone) {
  const std::string local = web("      trafficDistribution: PreferClose\n      externalTrafficPolicy: Local\n");
  // Held to node-b's own endpoint by the policy, not by zone.
  EXPECT_EQ(eligible(local, "client", "node-b:30080"), (Eligible{{"web-b", 1}}));
  EXPECT_EQ(eligible(local, "client", "node-c:30080"), Eligible{});
}

}  // namespace
