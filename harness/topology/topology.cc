#include "harness/topology/topology.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "netns/address.h"
#include "base/error.h"
#include "netns/link.h"
#include "netns/route.h"
#include "netns/sysctl.h"

namespace harness {
namespace {

using netns::Namespace;

Cidr host(const Ip& ip) { return Cidr(ip, ip.bits()); }

void route_via_link(const Namespace& ns, const Ip& dst, const std::string& dev) {
  netns::add_route(ns, {host(dst), std::nullopt, dev, false});
}

void route_via(const Namespace& ns, const Cidr& dst, const Ip& gateway) {
  netns::add_route(ns, {dst, gateway, "eth0", true});
}

}  // namespace

void prepare_namespace(const Namespace& ns) {
  netns::set_up(ns, "lo");
  // No IPv6 duplicate-address wait on the links that follow.
  netns::set_sysctl(ns, "net/ipv6/conf/default/accept_dad", "0");
  // ICMP errors are rate-limited per peer (a burst of about six) and per
  // namespace (a burst of 50), which would turn most refusals of a fast probe
  // run into timeouts. Taking destination-unreachable out of the rate mask
  // exempts it from both, so every refusal is counted, not a sample.
  netns::set_sysctl(ns, "net/ipv4/icmp_ratemask", "6160");  // default 6168 less bit 3 (dest unreachable)
  netns::set_sysctl(ns, "net/ipv4/icmp_ratelimit", "0");
  netns::set_sysctl(ns, "net/ipv6/icmp/ratelimit", "0");
  netns::set_sysctl(ns, "net/ipv6/icmp/ratemask", "0,3-127");  // default less type 1 (dest unreachable)
}

namespace {

Namespace new_namespace() {
  Namespace ns = Namespace::create();
  prepare_namespace(ns);
  return ns;
}

// Joins a member namespace to the fabric bridge with eth0 holding its IPs.
void join_fabric(const Namespace& fabric, int port, const Namespace& member,
                 const std::vector<Ip>& ips) {
  std::string port_name = fmt::format("port{}", port);
  netns::create_veth(fabric, port_name, member, "eth0");
  netns::set_master(fabric, port_name, "fabric");
  netns::set_up(fabric, port_name);
  for (const auto& ip : ips) netns::add_address(member, "eth0", host(ip));
  netns::set_up(member, "eth0");
}

// Everything on the fabric that is not `self`: every node and external IP.
std::vector<Ip> fabric_peers(const Cluster& c, const std::vector<Ip>& self) {
  std::vector<Ip> out;
  auto add = [&](const std::vector<Ip>& ips) {
    for (const auto& ip : ips)
      if (std::find(self.begin(), self.end(), ip) == self.end()) out.push_back(ip);
  };
  for (const auto& n : c.nodes) add(n.ips);
  for (const auto& e : c.externals) add(e.ips);
  return out;
}

void wire_pod(const Namespace& node_ns, const Pod& pod, int index, const Namespace& pod_ns) {
  std::string node_end = fmt::format("veth{}", index);
  netns::create_veth(node_ns, node_end, pod_ns, "eth0");
  netns::set_up(node_ns, node_end);
  // The node answers the pod's ARP for its gateway (169.254.1.1) by proxy ARP;
  // it proxies only addresses it has a route to through another device.
  netns::set_sysctl(node_ns, fmt::format("net/ipv4/conf/{}/proxy_arp", node_end), "1");
  // Answer at once (the default proxy_delay holds proxy replies up to 0.8 s),
  // as Calico does; otherwise a pod's first probes wait out that delay.
  netns::set_sysctl(node_ns, fmt::format("net/ipv4/neigh/{}/proxy_delay", node_end), "0");
  netns::set_sysctl(node_ns, fmt::format("net/ipv6/conf/{}/proxy_ndp", node_end), "1");
  for (const auto& ip : pod.ips) {
    netns::add_address(pod_ns, "eth0", host(ip));
    route_via_link(node_ns, ip, node_end);
  }
  netns::set_up(pod_ns, "eth0");
  Ip gw = Ip::from(Topology::kPodGateway);
  route_via_link(pod_ns, gw, "eth0");
  netns::add_route(pod_ns, {Cidr(Ip::from("0.0.0.0"), 0), gw, "eth0", true});
}

}  // namespace

Topology Topology::build(const Cluster& c) {
  Topology t;
  t.fabric_ = new_namespace();
  netns::create_bridge(t.fabric_, "fabric");
  // The fabric is a plain switch: with br_netfilter loaded, bridged frames
  // would also pass netfilter and conntrack in the fabric namespace.
  for (const char* key : {"net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
                          "net/bridge/bridge-nf-call-arptables"}) {
    try {
      netns::set_sysctl(t.fabric_, key, "0");
    } catch (const kpath::Error&) {
      // no br_netfilter: nothing to turn off
    }
  }
  netns::set_up(t.fabric_, "fabric");
  int port = 0;

  auto add = [&](const std::string& name) -> const Namespace& {
    if (t.namespaces_.count(name)) throw kpath::Error(fmt::format("duplicate namespace name '{}'", name));
    t.order_.push_back(name);
    return t.namespaces_.emplace(name, new_namespace()).first->second;
  };

  for (const auto& node : c.nodes) {
    const Namespace& ns = add(node.name);
    join_fabric(t.fabric_, port++, ns, node.ips);
    netns::set_sysctl(ns, "net/ipv4/ip_forward", "1");
    netns::set_sysctl(ns, "net/ipv6/conf/all/forwarding", "1");
    // A route for the pods' gateway so proxy ARP answers it (see wire_pod).
    route_via_link(ns, Ip::from(kPodGateway), "lo");
    // A real node has a default route; locally generated traffic to a
    // ClusterIP needs one before the OUTPUT hook can DNAT it.
    netns::add_route(ns, {Cidr(Ip::from("0.0.0.0"), 0), std::nullopt, "eth0", false});
    for (const auto& peer : fabric_peers(c, node.ips)) route_via_link(ns, peer, "eth0");
  }
  std::map<std::string, int> pods_on_node;
  for (const auto& pod : c.pods) {
    const Namespace& ns = add(pod.name);
    wire_pod(t.namespaces_.at(pod.node), pod, pods_on_node[pod.node]++, ns);
  }
  // Pods on other nodes are reached through their node across the fabric.
  for (const auto& node : c.nodes) {
    for (const auto& pod : c.pods) {
      if (pod.node == node.name) continue;
      const Node* owner = c.node(pod.node);
      for (const auto& ip : pod.ips)
        for (const auto& gw : owner->ips)
          if (gw.family() == ip.family()) {
            route_via(t.namespaces_.at(node.name), host(ip), gw);
            break;
          }
    }
  }
  for (const auto& ext : c.externals) {
    const Namespace& ns = add(ext.name);
    join_fabric(t.fabric_, port++, ns, ext.ips);
    for (const auto& peer : fabric_peers(c, ext.ips)) route_via_link(ns, peer, "eth0");
    // Service addresses a client may target from outside (externalIPs, LB
    // ingress, the ClusterIP range) are routed to the first node, as an
    // upstream router or a cloud load balancer would.
    if (c.nodes.empty()) continue;
    for (const auto& gw : c.nodes.front().ips) {
      if (gw.family() != c.service_cidr.ip().family()) continue;
      std::set<Cidr> routes{c.service_cidr};
      for (const auto& svc : c.services) {
        for (const auto* list : {&svc.external_ips, &svc.load_balancer_ips})
          for (const auto& ip : *list)
            if (ip.family() == gw.family() && !c.service_cidr.contains(ip)) routes.insert(host(ip));
      }
      for (const auto& dst : routes) route_via(ns, dst, gw);
      break;
    }
  }
  // No traffic until every link is up (see netns::wait_until_up).
  std::vector<std::string> ports;
  for (int i = 0; i < port; ++i) ports.push_back(fmt::format("port{}", i));
  netns::wait_until_up(t.fabric_, ports);
  for (const auto& node : c.nodes) {
    std::vector<std::string> links{"eth0"};
    for (int i = 0; i < pods_on_node[node.name]; ++i) links.push_back(fmt::format("veth{}", i));
    netns::wait_until_up(t.namespaces_.at(node.name), links);
  }
  for (const auto& pod : c.pods) netns::wait_until_up(t.namespaces_.at(pod.name), {"eth0"});
  for (const auto& ext : c.externals) netns::wait_until_up(t.namespaces_.at(ext.name), {"eth0"});
  return t;
}

const netns::Namespace& Topology::ns(const std::string& name) const {
  auto it = namespaces_.find(name);
  if (it == namespaces_.end()) throw kpath::Error(fmt::format("no namespace for '{}'", name));
  return it->second;
}

std::vector<std::string> Topology::pin(const std::string& prefix) const {
  std::vector<std::string> paths;
  auto pin_one = [&](const std::string& name, const Namespace& ns) {
    std::string path = "/run/netns/" + prefix + name;
    ns.pin(path);
    paths.push_back(path);
  };
  pin_one("fabric", fabric_);
  for (const auto& name : order_) pin_one(name, namespaces_.at(name));
  return paths;
}

}  // namespace harness
