// The neighbour entries a topology makes the kernel learn: the host-wide
// neighbour tables (one gc_thresh3 for every namespace) must not grow with
// the pods. Pod links are wired with permanent entries both ways, which the
// limit does not count; only the fabric learns.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "harness/cases/case_loader.h"
#include "harness/topology/topology.h"
#include "harness/traffic/echo_server.h"
#include "harness/traffic/prober.h"
#include "netns/rtnl.h"
#include "support/privileges.h"

namespace {

using namespace harness;

Case pods_case(int pods) {
  std::string s =
      "apiVersion: kpath/v1\nkind: Case\nname: neighbours\ncluster:\n  podCIDR: 10.32.0.0/12\n"
      "  serviceCIDR: 10.96.0.0/12\n  nodes:\n    - name: node1\n      ip: 192.168.100.1\n      pods:\n";
  for (int i = 0; i < pods; ++i)
    s += "        - name: web-" + std::to_string(i) + "\n          ip: 10.32.0." + std::to_string(i + 2) +
         "\n          listen: [{port: 80, protocol: TCP}]\n";
  s += "  externals:\n    - name: client\n      ip: 192.168.100.2\nexpect:\n  - from: client\n    to: node1:80\n"
       "    result: refused\n";
  return parse_case(s, "neighbours.yaml");
}

struct Learned {
  int pods = 0;       // entries the pods' namespaces learned
  int node_pods = 0;  // entries the node learned on its pod links
  int fabric = 0;     // entries the node and the client learned on the fabric
  int permanent = 0;
  std::string seen;  // the learned ones, for messages
};

// Traffic every way a pod link carries it: the node to each pod, each pod
// to the node (answered or refused), the client to the node; then counts.
Learned run_traffic_and_count(int pods) {
  Case c = pods_case(pods);
  Topology topo = Topology::build(c.cluster);
  EchoServers servers;
  for (const auto& pod : c.cluster.pods) servers.listen(topo.ns(pod.name), pod.name, 80, Protocol::TCP);
  servers.start();
  auto probe = [&](const std::string& from, const std::string& to) {
    ProbeSpec spec;
    spec.target = kpath::Ip::from(to);
    spec.port = 80;
    spec.count = 2;
    spec.timeout = std::chrono::milliseconds(500);
    return run_probes(topo.ns(from), spec);
  };
  for (const auto& pod : c.cluster.pods) {
    auto r = probe("node1", pod.ips.front().str());
    EXPECT_EQ(r.front().outcome, Outcome::Reply) << pod.name;
    probe(pod.name, "192.168.100.1");
  }
  probe("client", "192.168.100.1");
  Learned l;
  auto count = [&](const std::string& name, bool is_node) {
    netns::Rtnl rt(topo.ns(name));
    int eth0 = rt.link_index("eth0");
    for (const auto& n : rt.list_neighbours()) {
      if (n.permanent()) {
        ++l.permanent;
        continue;
      }
      l.seen += name + ": " + n.ip.str() + " link " + std::to_string(n.link_index) + " state " +
                std::to_string(n.state) + "\n";
      if (!is_node && name != "client") ++l.pods;
      else if (n.link_index == eth0) ++l.fabric;
      else ++l.node_pods;
    }
  };
  count("node1", true);
  count("client", false);
  for (const auto& pod : c.cluster.pods) count(pod.name, false);
  servers.stop();
  return l;
}

TEST(Neighbours, PodLinksLearnNothingAndTheFabricDoesNotGrowWithPods) {
  KPATH_REQUIRE_NET_ADMIN();
  Learned few = run_traffic_and_count(4), many = run_traffic_and_count(40);
  EXPECT_EQ(many.pods, 0) << many.seen;
  EXPECT_EQ(many.node_pods, 0) << many.seen;
  EXPECT_EQ(many.permanent, 2 * 40) << "one entry each way per pod";
  EXPECT_EQ(many.fabric, few.fabric) << "the fabric learns per member, not per pod";
  EXPECT_LE(many.fabric, 4) << many.seen;
}

}  // namespace
