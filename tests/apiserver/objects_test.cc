#include "harness/apiserver/objects.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace {

using namespace harness::apiserver;
using kpath::Cidr;
using kpath::Ip;
using kpath_test::small_cluster;
using kpath_test::web_service;

TEST(ServiceJson, NodePortServiceFields) {
  Json j = service_json(web_service());
  EXPECT_EQ(j["apiVersion"], "v1");
  EXPECT_EQ(j["kind"], "Service");
  EXPECT_EQ(j["metadata"]["name"], "web");
  EXPECT_EQ(j["metadata"]["namespace"], "default");
  const Json& spec = j["spec"];
  EXPECT_EQ(spec["type"], "NodePort");
  EXPECT_EQ(spec["clusterIP"], "10.96.0.10");
  EXPECT_EQ(spec["clusterIPs"], Json({"10.96.0.10"}));
  EXPECT_EQ(spec["ipFamilies"], Json({"IPv4"}));
  EXPECT_EQ(spec["ipFamilyPolicy"], "SingleStack");
  EXPECT_EQ(spec["ports"],
            Json::parse(R"([{"name":"http","protocol":"TCP","port":80,"targetPort":"http-alt","nodePort":30080}])"));
  EXPECT_EQ(spec["selector"], Json({{"app", "web"}}));
  EXPECT_EQ(spec["sessionAffinity"], "None");
  EXPECT_FALSE(spec.contains("sessionAffinityConfig"));
  EXPECT_EQ(spec["externalTrafficPolicy"], "Cluster");
  EXPECT_EQ(spec["internalTrafficPolicy"], "Cluster");
  EXPECT_FALSE(spec.contains("externalIPs"));
  EXPECT_FALSE(spec.contains("healthCheckNodePort"));
  EXPECT_EQ(j["status"], Json::parse(R"({"loadBalancer":{}})"));
}

TEST(ServiceJson, LoadBalancerWithEverythingSet) {
  harness::Service s = web_service();
  s.type = harness::ServiceType::LoadBalancer;
  s.ports[0].target_port_name.clear();
  s.ports[0].target_port = 8080;
  s.external_ips = {Ip::from("203.0.113.5")};
  s.load_balancer_ips = {Ip::from("198.51.100.7")};
  s.load_balancer_source_ranges = {Cidr::from("192.0.2.0/24")};
  s.external_traffic_policy = harness::TrafficPolicy::Local;
  s.internal_traffic_policy = harness::TrafficPolicy::Local;
  s.health_check_node_port = 32000;
  s.session_affinity_client_ip = true;
  s.session_affinity_timeout = 600;
  Json j = service_json(s);
  const Json& spec = j["spec"];
  EXPECT_EQ(spec["type"], "LoadBalancer");
  EXPECT_EQ(spec["ports"][0]["targetPort"], 8080);
  EXPECT_EQ(spec["externalIPs"], Json({"203.0.113.5"}));
  EXPECT_EQ(spec["loadBalancerSourceRanges"], Json({"192.0.2.0/24"}));
  EXPECT_EQ(spec["externalTrafficPolicy"], "Local");
  EXPECT_EQ(spec["internalTrafficPolicy"], "Local");
  EXPECT_EQ(spec["healthCheckNodePort"], 32000);
  EXPECT_EQ(spec["sessionAffinity"], "ClientIP");
  EXPECT_EQ(spec["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"], 600);
  EXPECT_EQ(j["status"]["loadBalancer"]["ingress"], Json::parse(R"([{"ip":"198.51.100.7"}])"));
}

TEST(ServiceJson, HeadlessAndDefaults) {
  harness::Service s;
  s.ns = "db";
  s.name = "db";
  s.ports = {{"", harness::Protocol::UDP, 53, 0, "", 0}};
  Json spec = service_json(s)["spec"];
  EXPECT_EQ(spec["clusterIP"], "None");
  EXPECT_EQ(spec["clusterIPs"], Json({"None"}));
  EXPECT_EQ(spec["type"], "ClusterIP");
  EXPECT_FALSE(spec.contains("externalTrafficPolicy"));  // only for NodePort and LoadBalancer
  EXPECT_FALSE(spec.contains("selector"));
  EXPECT_EQ(spec["ports"],
            Json::parse(R"([{"protocol":"UDP","port":53,"targetPort":53}])"));  // targetPort defaults to port
}

TEST(ServiceJson, Ipv6ClusterIp) {
  harness::Service s = web_service();
  s.cluster_ip = Ip::from("fd00:96::10");
  EXPECT_EQ(service_json(s)["spec"]["ipFamilies"], Json({"IPv6"}));
}

// The API server keeps the policy a Service asked for: PreferDualStack on a
// single-stack cluster stays PreferDualStack with one family.
TEST(ServiceJson, FamilyPolicyIsTheRequestedOneOnASingleStackCluster) {
  harness::Service s = web_service();
  s.ip_family_policy = harness::IpFamilyPolicy::PreferDualStack;
  Json spec = service_json(s)["spec"];
  EXPECT_EQ(spec["ipFamilyPolicy"], "PreferDualStack");
  EXPECT_EQ(spec["ipFamilies"], Json({"IPv4"}));
  EXPECT_EQ(spec["clusterIPs"], Json({"10.96.0.10"}));
}

TEST(ServiceJson, DualStackListsBothFamiliesPrimaryFirst) {
  harness::Service s = web_service();
  s.cluster_ip = Ip::from("fd00:96::10");
  s.cluster_ips = {Ip::from("fd00:96::10"), Ip::from("10.96.0.10")};
  s.ip_family_policy = harness::IpFamilyPolicy::RequireDualStack;
  Json spec = service_json(s)["spec"];
  EXPECT_EQ(spec["ipFamilies"], Json({"IPv6", "IPv4"}));
  EXPECT_EQ(spec["clusterIPs"], Json({"fd00:96::10", "10.96.0.10"}));
  EXPECT_EQ(spec["ipFamilyPolicy"], "RequireDualStack");
}

TEST(SliceJson, V1Fields) {
  auto c = small_cluster();
  auto slices = slice_json(c.slices[0], &c.services[0]);
  ASSERT_EQ(slices.size(), 1u);
  Json j = slices[0];
  EXPECT_EQ(j["apiVersion"], "discovery.k8s.io/v1");
  EXPECT_EQ(j["kind"], "EndpointSlice");
  EXPECT_EQ(j["metadata"]["name"], "web-abc12");
  EXPECT_EQ(j["metadata"]["labels"]["kubernetes.io/service-name"], "web");
  EXPECT_EQ(j["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"], "endpointslice-controller.k8s.io");
  EXPECT_FALSE(j["metadata"]["labels"].contains("service.kubernetes.io/headless"));
  EXPECT_EQ(j["addressType"], "IPv4");
  EXPECT_EQ(j["ports"], Json::parse(R"([{"name":"http","protocol":"TCP","port":8080}])"));
  ASSERT_EQ(j["endpoints"].size(), 3u);
  const Json& e0 = j["endpoints"][0];
  EXPECT_EQ(e0["addresses"], Json({"10.32.1.2"}));
  EXPECT_EQ(e0["conditions"], Json::parse(R"({"ready":true,"serving":true,"terminating":false})"));
  EXPECT_EQ(e0["nodeName"], "node-1");
  EXPECT_EQ(e0["zone"], "zone-a");
  EXPECT_EQ(e0["targetRef"]["kind"], "Pod");
  EXPECT_EQ(e0["targetRef"]["name"], "web-1");
  EXPECT_EQ(e0["targetRef"]["namespace"], "default");
  EXPECT_FALSE(e0.contains("topology"));  // v1 has no topology
  EXPECT_EQ(j["endpoints"][1]["conditions"], Json::parse(R"({"ready":false,"serving":false,"terminating":false})"));
  EXPECT_EQ(j["endpoints"][2]["conditions"], Json::parse(R"({"ready":false,"serving":true,"terminating":true})"));
}

// discovery.k8s.io/v1beta1: where kube-proxy 1.20 reads locality.
TEST(SliceJson, V1beta1HasTopologyAndNoZone) {
  auto c = small_cluster();
  Json j = slice_v1_to_v1beta1(slice_json(c.slices[0], &c.services[0])[0]);
  EXPECT_EQ(j["apiVersion"], "discovery.k8s.io/v1beta1");
  const Json& e0 = j["endpoints"][0];
  EXPECT_EQ(e0["topology"],
            Json::parse(R"({"kubernetes.io/hostname":"node-1","topology.kubernetes.io/zone":"zone-a"})"));
  EXPECT_EQ(e0["nodeName"], "node-1");  // v1beta1 has nodeName since 1.20
  EXPECT_FALSE(e0.contains("zone"));
  EXPECT_EQ(j["endpoints"][1]["topology"], Json::parse(R"({"kubernetes.io/hostname":"node-2"})"));
  EXPECT_EQ(j["addressType"], "IPv4");
  EXPECT_EQ(j["ports"], Json::parse(R"([{"name":"http","protocol":"TCP","port":8080}])"));
}

TEST(SliceJson, DualStackEndpointsSplitByFamily) {
  harness::EndpointSlice sl;
  sl.ns = "default";
  sl.name = "dual";
  sl.service = "dual";
  harness::Endpoint e = kpath_test::endpoint("10.32.1.9", "node-1", "p");
  e.addresses.push_back(Ip::from("fd00::9"));
  sl.endpoints = {e, kpath_test::endpoint("fd00::8", "node-1", "q")};
  auto slices = slice_json(sl, nullptr);
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_EQ(slices[0]["metadata"]["name"], "dual");
  EXPECT_EQ(slices[0]["addressType"], "IPv4");
  EXPECT_EQ(slices[0]["endpoints"].size(), 1u);
  EXPECT_EQ(slices[1]["metadata"]["name"], "dual-ipv6");
  EXPECT_EQ(slices[1]["addressType"], "IPv6");
  EXPECT_EQ(slices[1]["endpoints"][0]["addresses"], Json({"fd00::9"}));
  EXPECT_EQ(slices[1]["endpoints"][1]["addresses"], Json({"fd00::8"}));
}

TEST(SliceJson, EmptySliceTakesTheServiceFamily) {
  harness::EndpointSlice sl;
  sl.ns = "default";
  sl.name = "empty";
  sl.service = "web";
  harness::Service s = web_service();
  s.cluster_ip = Ip::from("fd00:96::10");
  auto slices = slice_json(sl, &s);
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0]["addressType"], "IPv6");
  EXPECT_EQ(slices[0]["endpoints"], Json::array());
}

TEST(EndpointsJson, DerivedFromSlices) {
  auto c = small_cluster();
  Json j = endpoints_json(c.services[0], c.slices_for(c.services[0]));
  EXPECT_EQ(j["apiVersion"], "v1");
  EXPECT_EQ(j["kind"], "Endpoints");
  EXPECT_EQ(j["metadata"]["name"], "web");
  ASSERT_EQ(j["subsets"].size(), 1u);
  const Json& ss = j["subsets"][0];
  EXPECT_EQ(ss["addresses"], Json::parse(R"([{"ip":"10.32.1.2","nodeName":"node-1","targetRef":)"
                                         R"({"kind":"Pod","namespace":"default","name":"web-1","uid":")" +
                                         uid_for("Pod", {"default", "web-1"}) + R"("}}])"));
  ASSERT_EQ(ss["notReadyAddresses"].size(), 1u);  // the terminating endpoint is left out
  EXPECT_EQ(ss["notReadyAddresses"][0]["ip"], "10.32.2.2");
  EXPECT_EQ(ss["ports"], Json::parse(R"([{"name":"http","port":8080,"protocol":"TCP"}])"));
}

TEST(EndpointsJson, OneSubsetPerPortListAndHeadlessLabel) {
  auto c = small_cluster();
  harness::EndpointSlice other = c.slices[0];
  other.name = "web-def34";
  other.ports[0].port = 9090;
  other.endpoints = {kpath_test::endpoint("10.32.1.7", "node-1", "web-7")};
  harness::EndpointSlice same = other;
  same.name = "web-ghi56";
  same.endpoints = {kpath_test::endpoint("10.32.1.8", "node-1", "web-8")};
  std::vector<const harness::EndpointSlice*> slices = {&c.slices[0], &other, &same};
  Json j = endpoints_json(c.services[0], slices);
  ASSERT_EQ(j["subsets"].size(), 2u);
  EXPECT_EQ(j["subsets"][1]["addresses"].size(), 2u);
  EXPECT_EQ(j["subsets"][1]["ports"][0]["port"], 9090);
  Json headless = endpoints_json(c.services[1], {});
  EXPECT_EQ(headless["metadata"]["labels"]["service.kubernetes.io/headless"], "");
  EXPECT_FALSE(headless.contains("subsets"));
}

TEST(NodeJson, AddressesLabelsAndPodCidr) {
  auto c = small_cluster();
  Json j = node_json(c.nodes[0]);
  EXPECT_EQ(j["kind"], "Node");
  EXPECT_EQ(j["metadata"]["name"], "node-1");
  EXPECT_FALSE(j["metadata"].contains("namespace"));
  EXPECT_EQ(j["metadata"]["labels"]["kubernetes.io/hostname"], "node-1");
  EXPECT_EQ(j["spec"]["podCIDR"], "10.32.1.0/24");
  EXPECT_EQ(j["spec"]["podCIDRs"], Json({"10.32.1.0/24"}));
  EXPECT_EQ(j["status"]["addresses"][0], Json::parse(R"({"type":"InternalIP","address":"192.168.100.1"})"));
  EXPECT_EQ(j["status"]["conditions"][0]["type"], "Ready");
  EXPECT_EQ(j["status"]["conditions"][0]["status"], "True");
}

TEST(ObjectsOf, EveryKindByKey) {
  auto objects = objects_of(small_cluster());
  EXPECT_EQ(objects[Bucket::Nodes].size(), 2u);
  EXPECT_TRUE(objects[Bucket::Nodes].count({"", "node-2"}));
  EXPECT_EQ(objects[Bucket::Services].size(), 2u);
  EXPECT_TRUE(objects[Bucket::Services].count({"db", "db"}));
  EXPECT_EQ(objects[Bucket::EndpointSlices].size(), 1u);
  EXPECT_TRUE(objects[Bucket::EndpointSlices].count({"default", "web-abc12"}));
  EXPECT_EQ(objects[Bucket::Endpoints].size(), 2u);  // one per Service
}

TEST(Uid, StableAndDistinct) {
  EXPECT_EQ(uid_for("Service", {"default", "web"}), uid_for("Service", {"default", "web"}));
  EXPECT_NE(uid_for("Service", {"default", "web"}), uid_for("Service", {"default", "web2"}));
  EXPECT_NE(uid_for("Service", {"default", "web"}), uid_for("Endpoints", {"default", "web"}));
  std::string u = uid_for("Node", {"", "n"});
  ASSERT_EQ(u.size(), 36u);
  EXPECT_EQ(u[8], '-');
  EXPECT_EQ(u[13], '-');
}

TEST(Status, KubernetesStatusObject) {
  Json s = status_json(404, "NotFound", "services \"x\" not found", {{"name", "x"}, {"kind", "services"}});
  EXPECT_EQ(s["kind"], "Status");
  EXPECT_EQ(s["apiVersion"], "v1");
  EXPECT_EQ(s["status"], "Failure");
  EXPECT_EQ(s["reason"], "NotFound");
  EXPECT_EQ(s["code"], 404);
  EXPECT_EQ(s["details"]["name"], "x");
}

}  // namespace
