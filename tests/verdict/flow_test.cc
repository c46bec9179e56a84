// Flow resolution, the oracle, without a kernel: in kube-proxy's
// packetFlowTest style, each row is a case snippet, a source, a target and a
// protocol, and says which front door the flow takes, which node receives it
// and which endpoints kube-proxy lets answer. Endpoint changes (`before:`)
// are applied as the runner applies them, through apply_endpoint_change.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "harness/run/runner.h"
#include "harness/verdict/flow.h"
#include "verdict/case_snippet.h"

namespace {

using namespace harness;
using kpath_test::make_case;
using kpath_test::web_service;
using Eligible = std::map<std::string, double>;

const Eligible kAll{{"web-a1", 1}, {"web-a2", 1}, {"web-b", 1}};
const Eligible kNodeA{{"web-a1", 1}, {"web-a2", 1}};
const Eligible kNodeB{{"web-b", 1}};
const Eligible kNone{};

const std::string kEtpLocal = "      externalTrafficPolicy: Local\n";
const std::string kItpLocal = "      internalTrafficPolicy: Local\n";
const std::string kExternalIp = "      externalIPs: [192.168.10.50]\n";
const std::string kNoClusterCidr = "proxy: {clusterCIDR: none}\n";

// An explicit slice for "web" with one endpoint per (address, conditions)
// line and the given port list.
std::string web_slice(const std::string& ports, const std::vector<std::string>& endpoints) {
  std::string s =
      "  - apiVersion: discovery.k8s.io/v1\n"
      "    kind: EndpointSlice\n"
      "    metadata: {name: web-x, labels: {kubernetes.io/service-name: web}}\n"
      "    addressType: IPv4\n"
      "    ports: " +
      ports +
      "\n"
      "    endpoints:\n";
  for (const auto& ep : endpoints) s += "      - " + ep + "\n";
  return s;
}

struct FlowRow {
  std::string name;
  std::string objects;
  std::string expect;  // the expectation's flow-style body: from, to, protocol, before
  std::string top;     // extra top-level keys (proxy options)
  // What resolve_flow must find.
  FlowKind kind;
  std::string via;
  Eligible eligible;
  std::string service_port = "";  // "" with kind Direct: no Service
};

std::ostream& operator<<(std::ostream& os, const FlowRow& r) { return os << r.name; }

const std::vector<FlowRow> kFlows = {
    // ClusterIP from every kind of source.
    {"ClusterIP from a pod", web_service(), "from: client-c, to: default/web:80", "", FlowKind::ClusterIP, "", kAll,
     "http"},
    {"ClusterIP from a node", web_service(), "from: node-b, to: 10.96.10.5:80", "", FlowKind::ClusterIP, "", kAll,
     "http"},
    {"ClusterIP from outside", web_service(), "from: client, to: 10.96.10.5:80", "", FlowKind::ClusterIP, "", kAll,
     "http"},
    {"ClusterIP over UDP takes the UDP port", web_service(), "from: client-a, to: 10.96.10.5:53, protocol: UDP", "",
     FlowKind::ClusterIP, "", kAll, "dns"},

    // NodePort through each node, loopback included.
    {"NodePort via node-a", web_service(), "from: client, to: node-a:30080", "", FlowKind::NodePort, "node-a", kAll,
     "http"},
    {"NodePort via node-b's second address", web_service(), "from: client, to: 192.168.10.12:30080", "",
     FlowKind::NodePort, "node-b", kAll, "http"},
    {"NodePort via node-c, which has no endpoint", web_service(), "from: client, to: node-c:30080", "",
     FlowKind::NodePort, "node-c", kAll, "http"},
    {"UDP NodePort", web_service(), "from: client, to: node-b:30053, protocol: UDP", "", FlowKind::NodePort, "node-b",
     kAll, "dns"},
    {"loopback NodePort from NODE/localhost is the sender's node", web_service(),
     "from: node-b/localhost, to: 127.0.0.1:30080", "", FlowKind::NodePort, "node-b", kAll, "http"},
    {"loopback NodePort from a node", web_service(), "from: node-c, to: 127.0.0.1:30080", "", FlowKind::NodePort,
     "node-c", kAll, "http"},

    // externalIPs and load-balancer IPs arrive at the first node.
    {"externalIP via the first node", web_service(kExternalIp), "from: client, to: 192.168.10.50:80", "",
     FlowKind::External, "node-a", kAll, "http"},
    {"LB IP via the first node",
     web_service("    status: {loadBalancer: {ingress: [{ip: 192.168.10.60}]}}\n", "LoadBalancer"),
     "from: client, to: 192.168.10.60:80", "", FlowKind::External, "node-a", kAll, "http"},

    // externalTrafficPolicy Local: outside traffic stays on the receiving
    // node; pods and the receiving node itself short-circuit to every endpoint.
    {"ETP Local NodePort from outside, local endpoints", web_service(kEtpLocal), "from: client, to: node-a:30080", "",
     FlowKind::NodePort, "node-a", kNodeA, "http"},
    {"ETP Local NodePort from outside, no local endpoint", web_service(kEtpLocal), "from: client, to: node-c:30080", "",
     FlowKind::NodePort, "node-c", kNone, "http"},
    {"ETP Local NodePort from a pod short-circuits", web_service(kEtpLocal), "from: client-c, to: node-c:30080", "",
     FlowKind::NodePort, "node-c", kAll, "http"},
    {"ETP Local NodePort from a pod to another node short-circuits", web_service(kEtpLocal),
     "from: client-c, to: node-b:30080", "", FlowKind::NodePort, "node-b", kAll, "http"},
    {"ETP Local NodePort from the node itself short-circuits", web_service(kEtpLocal), "from: node-c, to: node-c:30080",
     "", FlowKind::NodePort, "node-c", kAll, "http"},
    {"ETP Local loopback NodePort short-circuits", web_service(kEtpLocal),
     "from: node-c/localhost, to: 127.0.0.1:30080", "", FlowKind::NodePort, "node-c", kAll, "http"},
    // node-c's address is not local on node-b, so src-type LOCAL does not match there.
    {"ETP Local NodePort from another node is held to the receiving node", web_service(kEtpLocal),
     "from: node-c, to: node-b:30080", "", FlowKind::NodePort, "node-b", kNodeB, "http"},
    // Without a local-traffic detector kube-proxy cannot tell pod traffic.
    {"ETP Local without a cluster CIDR holds a pod to the receiving node", web_service(kEtpLocal),
     "from: client-c, to: node-b:30080", kNoClusterCidr, FlowKind::NodePort, "node-b", kNodeB, "http"},
    {"ETP Local externalIP from outside: the first node's endpoints", web_service(kEtpLocal + kExternalIp),
     "from: client, to: 192.168.10.50:80", "", FlowKind::External, "node-a", kNodeA, "http"},
    // The sender's own OUTPUT chain catches it: src-type LOCAL.
    {"ETP Local externalIP from a node short-circuits", web_service(kEtpLocal + kExternalIp),
     "from: node-c, to: 192.168.10.50:80", "", FlowKind::External, "node-a", kAll, "http"},
    // ... and without a detector, a pod's own node catches it and holds it there.
    {"ETP Local externalIP from a pod without a cluster CIDR: the pod's node", web_service(kEtpLocal + kExternalIp),
     "from: client-b, to: 192.168.10.50:80", kNoClusterCidr, FlowKind::External, "node-a", kNodeB, "http"},
    {"ETP Local leaves the ClusterIP alone", web_service(kEtpLocal), "from: client, to: 10.96.10.5:80", "",
     FlowKind::ClusterIP, "", kAll, "http"},

    // internalTrafficPolicy Local: ClusterIP traffic stays on the caller's node.
    {"ITP Local from a pod: its node's endpoints", web_service(kItpLocal), "from: client-b, to: default/web:80", "",
     FlowKind::ClusterIP, "", kNodeB, "http"},
    {"ITP Local from a pod on a node without endpoints", web_service(kItpLocal), "from: client-c, to: default/web:80",
     "", FlowKind::ClusterIP, "", kNone, "http"},
    {"ITP Local from a node", web_service(kItpLocal), "from: node-a, to: 10.96.10.5:80", "", FlowKind::ClusterIP, "",
     kNodeA, "http"},
    {"ITP Local from outside: the first node's endpoints", web_service(kItpLocal), "from: client, to: 10.96.10.5:80",
     "", FlowKind::ClusterIP, "", kNodeA, "http"},
    {"ITP Local leaves the NodePort alone", web_service(kItpLocal), "from: client, to: node-c:30080", "",
     FlowKind::NodePort, "node-c", kAll, "http"},

    // Endpoint conditions: ready first, serving terminating only when none is
    // ready, not serving never.
    {"a terminating endpoint is not used while others are ready",
     web_service(),
     "from: client, to: node-a:30080, before: {web-a1: terminating}",
     "",
     FlowKind::NodePort,
     "node-a",
     {{"web-a2", 1}, {"web-b", 1}},
     "http"},
    {"terminating endpoints are used when none is ready", web_service(),
     "from: client, to: node-a:30080, before: {web-a1: terminating, web-a2: terminating, web-b: not-ready}", "",
     FlowKind::NodePort, "node-a", kNodeA, "http"},
    {"not-ready endpoints never", web_service(),
     "from: client, to: node-a:30080, before: {web-a1: not-ready, web-a2: not-ready, web-b: not-ready}", "",
     FlowKind::NodePort, "node-a", kNone, "http"},
    {"a terminating endpoint that no longer serves never",
     web_service() +
         web_slice("[{name: http, port: 8080}]",
                   {"{addresses: [10.244.0.10], conditions: {ready: false, serving: false, terminating: true}}",
                    "{addresses: [10.244.1.10], conditions: {ready: false, serving: true, terminating: true}}"}),
     "from: client, to: 10.96.10.5:80", "", FlowKind::ClusterIP, "", kNodeB, "http"},
    {"deleted endpoints are gone", web_service(), "from: client, to: 10.96.10.5:80, before: {web-b: deleted}", "",
     FlowKind::ClusterIP, "", kNodeA, "http"},
    {"ETP Local prefers a local terminating endpoint to remote ready ones",
     web_service(kEtpLocal),
     "from: client, to: node-a:30080, before: {web-a1: terminating, web-a2: deleted}",
     "",
     FlowKind::NodePort,
     "node-a",
     {{"web-a1", 1}},
     "http"},

    // Slices serve a Service port by name and protocol.
    {"a slice port of the same name and protocol",
     web_service() + web_slice("[{name: http, port: 8080}]", {"{addresses: [10.244.0.10]}"}),
     "from: client, to: 10.96.10.5:80",
     "",
     FlowKind::ClusterIP,
     "",
     {{"web-a1", 1}},
     "http"},
    {"a slice port of another name serves nothing",
     web_service() + web_slice("[{name: web, port: 8080}]", {"{addresses: [10.244.0.10]}"}),
     "from: client, to: 10.96.10.5:80", "", FlowKind::ClusterIP, "", kNone, "http"},
    {"a slice port of another protocol serves nothing",
     web_service() + web_slice("[{name: http, port: 8080, protocol: UDP}]", {"{addresses: [10.244.0.10]}"}),
     "from: client, to: 10.96.10.5:80", "", FlowKind::ClusterIP, "", kNone, "http"},

    // Targets no Service owns go straight to the address.
    {"a pod target is direct", web_service(), "from: client, to: web-a1:8080", "", FlowKind::Direct, "", kNone},
    {"a node port no Service uses", web_service(), "from: client, to: node-a:30081", "", FlowKind::Direct, "", kNone},
    {"the ClusterIP at a port the Service lacks", web_service(), "from: client, to: 10.96.10.5:81", "",
     FlowKind::Direct, "", kNone},
    {"a node port at the ClusterIP", web_service(), "from: client, to: 10.96.10.5:30080", "", FlowKind::Direct, "",
     kNone},
    // (result: refused, since the loader rejects expecting this flow reachable)
    {"the NodePort over the other protocol", web_service(),
     "from: client, to: node-a:30080, protocol: UDP, result: refused", "", FlowKind::Direct, "", kNone},
    {"an address in the service range no Service has", web_service(), "from: client, to: 10.96.10.99:80", "",
     FlowKind::Direct, "", kNone},
};

class FlowResolution : public ::testing::TestWithParam<FlowRow> {};

TEST_P(FlowResolution, KindViaAndEligibleEndpoints) {
  const FlowRow& row = GetParam();
  Case c = make_case(row.objects, row.expect, row.top);
  ASSERT_EQ(c.expect.size(), 1u);
  const Expectation& e = c.expect[0];
  for (const auto& change : e.before) apply_endpoint_change(c.cluster, change);
  Flow f = resolve_flow(c.cluster, e);
  EXPECT_EQ(to_string(f.kind), to_string(row.kind));
  EXPECT_EQ(f.via_node, row.via);
  EXPECT_EQ(f.eligible, row.eligible);
  EXPECT_EQ(f.service, row.kind == FlowKind::Direct ? "" : "default/web");
  EXPECT_EQ(f.service_port, row.service_port);
}

std::string test_name(const ::testing::TestParamInfo<FlowRow>& info) {
  std::string out;
  bool upper = true;
  for (char ch : info.param.name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
    upper = false;
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Rows, FlowResolution, ::testing::ValuesIn(kFlows), test_name);

// The prober's side of a flow: who sends, from which address, to where.
TEST(FlowEnds, SourceAddressesAndTarget) {
  struct Row {
    std::string expect;
    std::string from_ns;
    std::vector<std::string> from_ips;
    bool localhost;
    std::string target;
    uint16_t port;
    Protocol protocol;
  };
  const std::vector<Row> rows = {
      {"from: client, to: node-b:30080", "client", {"192.168.10.100"}, false, "192.168.10.2", 30080, Protocol::TCP},
      {"from: node-b, to: default/web:53, protocol: UDP",
       "node-b",
       {"192.168.10.2", "192.168.10.12"},
       false,
       "10.96.10.5",
       53,
       Protocol::UDP},
      {"from: node-b/localhost, to: 127.0.0.1:30080", "node-b", {"127.0.0.1"}, true, "127.0.0.1", 30080, Protocol::TCP},
      {"from: node-b/192.168.10.12, to: node-b:30080",
       "node-b",
       {"192.168.10.12"},
       false,
       "192.168.10.2",
       30080,
       Protocol::TCP},
      {"from: client-a, to: web-b:8080", "client-a", {"10.244.0.20"}, false, "10.244.1.10", 8080, Protocol::TCP},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.expect);
    Case c = make_case(web_service(), row.expect);
    Flow f = resolve_flow(c.cluster, c.expect.at(0));
    EXPECT_EQ(f.from_ns, row.from_ns);
    std::vector<std::string> ips;
    for (const auto& ip : f.from_ips) ips.push_back(ip.str());
    EXPECT_EQ(ips, row.from_ips);
    EXPECT_EQ(f.from_localhost, row.localhost);
    EXPECT_EQ(f.from_address.has_value(), row.expect.starts_with("from: node-b/192")) << "NODE/ADDRESS sends from it";
    EXPECT_EQ(f.target.str(), row.target);
    EXPECT_EQ(f.port, row.port);
    EXPECT_EQ(f.protocol, row.protocol);
  }
}

// The lookup the loader and the oracle share, asked directly: the first
// match wins, and a loopback address is the sender's node only.
TEST(ServicePortAt, LoopbackNeedsTheSendersNode) {
  Case c = make_case(web_service(), "from: client, to: node-a:30080");
  const Cluster& cl = c.cluster;
  auto loopback = Ip::from("127.0.0.1");
  EXPECT_FALSE(cl.service_port_at(loopback, 30080, Protocol::TCP, ""));
  auto hit = cl.service_port_at(loopback, 30080, Protocol::TCP, "node-c");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->via_node, "node-c");
  EXPECT_EQ(hit->port->name, "http");
  EXPECT_FALSE(cl.service_port_at(Ip::from("10.244.0.10"), 30080, Protocol::TCP, "node-a"))
      << "a pod address is no node address";
}

}  // namespace
