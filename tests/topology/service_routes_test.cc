// The fabric's routes to Service addresses: an external client reaches an
// externalIP or LB IP through the first node, unless a fabric member holds
// the address itself (a load balancer handing its IP to a node), which the
// case format allows and which is then reached on the link.
#include <gtest/gtest.h>

#include <string>

#include "harness/cases/case_loader.h"
#include "harness/topology/topology.h"
#include "harness/traffic/prober.h"
#include "support/privileges.h"

namespace {

using namespace harness;

Case lb_on_node_case() {
  return parse_case(
      "apiVersion: kpath/v1\nkind: Case\nname: lb-on-node\ncluster:\n  podCIDR: 10.32.0.0/12\n"
      "  serviceCIDR: 10.96.0.0/12\n  nodes:\n    - name: node1\n      ip: 192.168.100.1\n"
      "    - name: node2\n      ip: 192.168.100.3\n"
      "  externals:\n    - name: client\n      ip: 192.168.100.2\n"
      "objects:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec:\n"
      "      type: LoadBalancer\n      clusterIP: 10.96.0.10\n      ports: [{port: 80, nodePort: 30080}]\n"
      "    status: {loadBalancer: {ingress: [{ip: 192.168.100.3}, {ip: 198.51.100.7}]}}\n"
      "expect:\n  - from: client\n    to: 192.168.100.3:80\n    result: refused\n",
      "lb-on-node.yaml");
}

TEST(ServiceRoutes, AnLbIpThatANodeHoldsIsReachedOnTheLink) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = lb_on_node_case();
  Topology topo = Topology::build(c.cluster);  // threw "File exists" when the LB IP was node1's
  ProbeSpec spec;
  spec.target = kpath::Ip::from("192.168.100.3");
  spec.port = 80;
  spec.count = 1;
  spec.timeout = std::chrono::milliseconds(500);
  // node2's stack refuses: nothing listens there and no rules are installed.
  auto r = run_probes(topo.ns("client"), spec);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r.front().outcome, Outcome::Refused) << to_string(r.front().outcome);
}

}  // namespace
