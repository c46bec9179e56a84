#include "harness/topology/topology.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

#include <sys/socket.h>

#include "base/error.h"
#include "harness/model/links.h"
#include "netns/rtnl.h"
#include "netns/sysctl.h"

namespace harness {
namespace {

using netns::Namespace;
using netns::Rtnl;

// A namespace being built, with the one netlink handle every link, address
// and route request for it goes through (iproute2's rth, one per namespace).
struct Member {
  const Namespace& ns;
  Rtnl& rt;
};

Cidr host(const Ip& ip) { return Cidr(ip, ip.bits()); }

void route_via_link(Rtnl& rt, const Ip& dst, const std::string& dev) {
  rt.add_route({host(dst), std::nullopt, dev, false});
}

void route_via(Rtnl& rt, const Cidr& dst, const Ip& gateway) { rt.add_route({dst, gateway, "eth0", true}); }

// Whether any address of the cluster is IPv6 (else its links need no IPv6).
bool uses_ipv6(const Cluster& c) {
  auto any_v6 = [](const std::vector<Ip>& ips) {
    return std::any_of(ips.begin(), ips.end(), [](const Ip& ip) { return ip.is_v6(); });
  };
  for (const auto& n : c.nodes)
    if (any_v6(n.ips)) return true;
  for (const auto& p : c.pods)
    if (any_v6(p.ips)) return true;
  for (const auto& e : c.externals)
    if (any_v6(e.ips)) return true;
  for (const auto* cidrs : {&c.service_cidrs, &c.pod_cidrs})
    for (const auto& cidr : *cidrs)
      if (cidr.ip().is_v6()) return true;
  return c.service_cidr.ip().is_v6() || c.pod_cidr.ip().is_v6();
}

bool has_v6(const std::vector<Ip>& ips) {
  return std::any_of(ips.begin(), ips.end(), [](const Ip& ip) { return ip.is_v6(); });
}

void prepare(const Namespace& ns, Rtnl& rt, bool ipv6 = true) {
  rt.set_up("lo");
  // An IPv4-only cluster's links get no IPv6 at all: each IPv6 link would
  // put MLD (ff02::16) and, toward a forwarding node, router-solicitation
  // entries in the host-wide IPv6 neighbour table, two per pod.
  if (!ipv6) netns::set_sysctl(ns, "net/ipv6/conf/default/disable_ipv6", "1");
  // No IPv6 duplicate-address wait on the links that follow.
  netns::set_sysctl(ns, "net/ipv6/conf/default/accept_dad", "0");
  // No router solicitations from the links that follow: a node (forwarding)
  // learns a neighbour entry for every solicitation's link-local source, one
  // per pod in the host-wide IPv6 neighbour table.
  netns::set_sysctl(ns, "net/ipv6/conf/default/router_solicitations", "0");
  // No ICMPv6 redirects taken: a node that forwards a client's packet to the
  // sink on the same link redirects the client to the sink's link-local
  // address, and the client's next packets would bypass the node's rules (an
  // IPv4 client ignores the like, its /32 has no on-link gateway).
  netns::set_sysctl(ns, "net/ipv6/conf/default/accept_redirects", "0");
  // ICMP errors are rate-limited per peer (a burst of about six) and per
  // namespace (a burst of 50), which would turn most refusals of a fast probe
  // run into timeouts. Taking destination-unreachable out of the rate mask
  // exempts it from both, so every refusal is counted, not a sample.
  netns::set_sysctl(ns, "net/ipv4/icmp_ratemask", "6160");  // default 6168 less bit 3 (dest unreachable)
  netns::set_sysctl(ns, "net/ipv4/icmp_ratelimit", "0");
  netns::set_sysctl(ns, "net/ipv6/icmp/ratelimit", "0");
  netns::set_sysctl(ns, "net/ipv6/icmp/ratemask", "0,3-127");  // default less type 1 (dest unreachable)
}

}  // namespace

void prepare_namespace(const Namespace& ns) {
  Rtnl rt(ns);
  prepare(ns, rt);
}

namespace {

// Joins a member namespace to the fabric bridge with eth0 holding its IPs.
void join_fabric(Rtnl& fabric, int port, Member member, const std::vector<Ip>& ips) {
  std::string port_name = fmt::format("port{}", port);
  fabric.create_veth(port_name, member.ns, "eth0");
  fabric.set_master(port_name, "fabric");
  fabric.set_up(port_name);
  for (const auto& ip : ips) member.rt.add_address("eth0", host(ip));
  member.rt.set_up("eth0");
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

void wire_pod(Member node, const Pod& pod, int index, Member pod_ns) {
  std::string node_end = pod_node_link(index);
  node.rt.create_veth(node_end, pod_ns.ns, kPodLink);
  node.rt.set_up(node_end);
  // The node answers the pod's ARP for its gateway (169.254.1.1) by proxy ARP;
  // it proxies only addresses it has a route to through another device.
  netns::set_sysctl(node.ns, fmt::format("net/ipv4/conf/{}/proxy_arp", node_end), "1");
  // Answer at once (the default proxy_delay holds proxy replies up to 0.8 s),
  // as Calico does; otherwise a pod's first probes wait out that delay.
  netns::set_sysctl(node.ns, fmt::format("net/ipv4/neigh/{}/proxy_delay", node_end), "0");
  netns::set_sysctl(node.ns, fmt::format("net/ipv6/conf/{}/proxy_ndp", node_end), "1");
  for (const auto& ip : pod.ips) {
    pod_ns.rt.add_address("eth0", host(ip));
    route_via_link(node.rt, ip, node_end);
  }
  pod_ns.rt.set_up("eth0");
  Ip gw = Ip::from(Topology::kPodGateway);
  route_via_link(pod_ns.rt, gw, "eth0");
  pod_ns.rt.add_route({Cidr(Ip::from("0.0.0.0"), 0), gw, "eth0", true});
  // IPv6 the same way: a link-local gateway the node's veth stands for
  // (its permanent neighbour entry below, proxy_ndp above), as Calico does.
  const Ip gw6 = Ip::from(Topology::kPodGateway6);
  if (has_v6(pod.ips)) pod_ns.rt.add_route({Cidr(Ip::from("::"), 0), gw6, "eth0", true});
  // Both ends of the veth know each other from the start: a learned entry
  // per pod address (node side) and per pod (gateway) would count against
  // the neighbour table's gc_thresh3, which every namespace of the host
  // shares; a 300-pod node alone needs 600. Permanent entries do not count,
  // so the pod links need none of the host's budget (see host/budget.h).
  auto pod_mac = pod_ns.rt.link_address("eth0");
  for (const auto& ip : pod.ips) node.rt.add_permanent_neighbour(node_end, ip, pod_mac);
  pod_ns.rt.add_permanent_neighbour("eth0", gw, node.rt.link_address(node_end));
  if (has_v6(pod.ips)) pod_ns.rt.add_permanent_neighbour("eth0", gw6, node.rt.link_address(node_end));
}

// The sink's IPv6 address on the fabric: nodes send IPv6 traffic they do not
// route elsewhere to it. It owns every IPv6 address by AnyIP as for IPv4, but
// a node's neighbour solicitations for such an address get no answer (NDP
// answers assigned addresses only), so the nodes use it as their gateway.
constexpr const char* kSinkGateway6 = "fe80::5";

// The sink's way back to `ip` of `family`: the node it sits on (pods), the
// first node (externals: where they send Service addresses), or the link.
void sink_routes(const Cluster& c, Rtnl& rt, int family) {
  auto gateway = [&](const Node& n) -> std::optional<Ip> {
    for (const auto& ip : n.ips)
      if (ip.family() == family) return ip;
    return std::nullopt;
  };
  for (const auto& node : c.nodes)
    for (const auto& ip : node.ips)
      if (ip.family() == family) route_via_link(rt, ip, "eth0");
  for (const auto& pod : c.pods) {
    auto gw = gateway(*c.node(pod.node));
    for (const auto& ip : pod.ips)
      if (ip.family() == family && gw) route_via(rt, host(ip), *gw);
  }
  auto first = c.nodes.empty() ? std::nullopt : gateway(c.nodes.front());
  for (const auto& ext : c.externals) {
    for (const auto& ip : ext.ips) {
      if (ip.family() != family) continue;
      if (first) route_via(rt, host(ip), *first);
      else route_via_link(rt, ip, "eth0");
    }
    if (ext.source_range && ext.source_range->ip().family() == family && first)
      route_via(rt, *ext.source_range, *first);
  }
}

// The sink joins the fabric without an address of its own (IPv4) and owns
// every address by a local default route per family; the more specific
// routes to fabric peers and pods keep those out. It answers a node's ARP for
// whatever the node's IPv4 default route sends out, and is the nodes' IPv6
// gateway. Replies to a pod go through the pod's node, and to an external
// client through the first node (where the client sends Service addresses),
// so each node's conntrack sees both directions.
void build_sink(const Cluster& c, Rtnl& fabric, int port, Member sink, bool ipv6) {
  join_fabric(fabric, port, sink, {});
  // The first node would redirect the sink to the client directly (same link):
  // replies must keep going back the way the request came.
  for (const char* dev : {"all", "default", "eth0"}) {
    netns::set_sysctl(sink.ns, fmt::format("net/ipv4/conf/{}/accept_redirects", dev), "0");
    if (ipv6) netns::set_sysctl(sink.ns, fmt::format("net/ipv6/conf/{}/accept_redirects", dev), "0");
  }
  sink_routes(c, sink.rt, AF_INET);
  sink.rt.add_route({Cidr(Ip::from("0.0.0.0"), 0), std::nullopt, "lo", false, /*local=*/true});
  if (!ipv6) return;
  sink.rt.add_address("eth0", Cidr(Ip::from(kSinkGateway6), 64));
  // A UDP reply goes out from the address it was sent to (IPV6_PKTINFO),
  // which IPv6 takes only from assigned addresses, not AnyIP routes.
  netns::set_sysctl(sink.ns, "net/ipv6/ip_nonlocal_bind", "1");
  sink_routes(c, sink.rt, AF_INET6);
  sink.rt.add_route({Cidr(Ip::from("::"), 0), std::nullopt, "lo", false, /*local=*/true});
}

}  // namespace

Topology Topology::build(const Cluster& c) {
  Topology t;
  const bool ipv6 = uses_ipv6(c);
  t.fabric_ = Namespace::create();
  Rtnl fabric(t.fabric_);
  prepare(t.fabric_, fabric, ipv6);
  fabric.create_bridge("fabric");
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
  fabric.set_up("fabric");
  int port = 0;

  // The handles live for the build only; the namespaces are held by t.
  std::map<std::string, Rtnl> handles;
  auto add = [&](const std::string& name) -> Member {
    if (t.namespaces_.count(name)) throw kpath::Error(fmt::format("duplicate namespace name '{}'", name));
    t.order_.push_back(name);
    const Namespace& ns = t.namespaces_.emplace(name, Namespace::create()).first->second;
    Rtnl& rt = handles.emplace(name, Rtnl(ns)).first->second;
    prepare(ns, rt, ipv6);
    return {ns, rt};
  };
  auto member = [&](const std::string& name) { return Member{t.namespaces_.at(name), handles.at(name)}; };

  for (const auto& node : c.nodes) {
    Member m = add(node.name);
    join_fabric(fabric, port++, m, node.ips);
    netns::set_sysctl(m.ns, "net/ipv4/ip_forward", "1");
    netns::set_sysctl(m.ns, "net/ipv6/conf/all/forwarding", "1");
    // A route for the pods' gateway so proxy ARP answers it (see wire_pod).
    route_via_link(m.rt, Ip::from(kPodGateway), "lo");
    // A real node has a default route; locally generated traffic to a
    // ClusterIP needs one before the OUTPUT hook can DNAT it.
    m.rt.add_route({Cidr(Ip::from("0.0.0.0"), 0), std::nullopt, "eth0", false});
    if (has_v6(node.ips)) m.rt.add_route({Cidr(Ip::from("::"), 0), Ip::from(kSinkGateway6), "eth0", false});
    for (const auto& peer : fabric_peers(c, node.ips)) route_via_link(m.rt, peer, "eth0");
  }
  std::map<std::string, int> pods_on_node;
  for (const auto& pod : c.pods) {
    Member m = add(pod.name);
    wire_pod(member(pod.node), pod, pods_on_node[pod.node]++, m);
  }
  // Pods on other nodes are reached through their node across the fabric.
  for (const auto& node : c.nodes) {
    for (const auto& pod : c.pods) {
      if (pod.node == node.name) continue;
      const Node* owner = c.node(pod.node);
      for (const auto& ip : pod.ips)
        for (const auto& gw : owner->ips)
          if (gw.family() == ip.family()) {
            route_via(handles.at(node.name), host(ip), gw);
            break;
          }
    }
  }
  t.sink_ = Namespace::create();
  {
    Rtnl sink(t.sink_);
    prepare(t.sink_, sink, ipv6);
    build_sink(c, fabric, port++, {t.sink_, sink}, ipv6);
    sink.wait_until_up({"eth0"});
  }
  for (const auto& ext : c.externals) {
    Member m = add(ext.name);
    join_fabric(fabric, port++, m, ext.ips);
    const std::vector<Ip> peers = fabric_peers(c, ext.ips);
    for (const auto& peer : peers) route_via_link(m.rt, peer, "eth0");
    // Service addresses a client may target from outside (externalIPs, LB
    // ingress, the ClusterIP range) are routed to the first node, as an
    // upstream router or a cloud load balancer would.
    if (c.nodes.empty()) continue;
    // One family after the other, each through the first node's address of it.
    for (int family : c.families()) {
      const Cidr range = *c.service_cidr_of(family);
      for (const auto& gw : c.nodes.front().ips) {
        if (gw.family() != family || (family == AF_INET6 && !has_v6(ext.ips))) continue;
        std::set<Cidr> routes{range};
        for (const auto& svc : c.services) {
          for (const auto* list : {&svc.external_ips, &svc.load_balancer_ips})
            for (const auto& ip : *list)
              // An address a fabric member holds (an LB IP that is a node's own) is reached on the link.
              if (ip.family() == gw.family() && !range.contains(ip) &&
                  std::find(peers.begin(), peers.end(), ip) == peers.end())
                routes.insert(host(ip));
        }
        for (const auto& dst : routes) route_via(m.rt, dst, gw);
        break;
      }
    }
  }
  // An external client's sourceRange is its own (a local route, so a probe
  // binds to any of its addresses) and every node reaches it through the client.
  for (const auto& ext : c.externals) {
    if (!ext.source_range) continue;
    const Cidr& range = *ext.source_range;
    handles.at(ext.name).add_route({range, std::nullopt, "lo", false, /*local=*/true});
    // IPv6 binds only to assigned addresses, not to those of a local route
    // (as for the sink's replies): let the client's probes bind to the range.
    if (range.ip().is_v6()) netns::set_sysctl(t.ns(ext.name), "net/ipv6/ip_nonlocal_bind", "1");
    for (const auto& via : ext.ips) {
      if (via.family() != range.ip().family()) continue;
      for (const auto& node : c.nodes) route_via(handles.at(node.name), range, via);
      break;
    }
  }
  // No traffic until every link is up (see netns::wait_until_up).
  std::vector<std::string> ports;
  for (int i = 0; i < port; ++i) ports.push_back(fmt::format("port{}", i));
  fabric.wait_until_up(ports);
  for (const auto& node : c.nodes) {
    std::vector<std::string> links{"eth0"};
    for (int i = 0; i < pods_on_node[node.name]; ++i) links.push_back(pod_node_link(i));
    handles.at(node.name).wait_until_up(links);
  }
  for (const auto& pod : c.pods) handles.at(pod.name).wait_until_up({"eth0"});
  for (const auto& ext : c.externals) handles.at(ext.name).wait_until_up({"eth0"});
  return t;
}

const netns::Namespace& Topology::ns(const std::string& name) const {
  auto it = namespaces_.find(name);
  if (it == namespaces_.end()) throw kpath::Error(fmt::format("no namespace for '{}'", name));
  return it->second;
}

std::vector<netns::PinnedNamespace> Topology::pin(const std::string& prefix, const netns::PinDirs& dirs) const {
  std::vector<netns::PinnedNamespace> pins;
  auto pin_one = [&](const std::string& label, const Namespace& ns) {
    std::string name = netns::pin_name(prefix, label);
    netns::pin_with_marker(ns, name, label, dirs);
    pins.push_back({name, label});
  };
  pin_one("fabric", fabric_);
  pin_one("sink", sink_);
  for (const auto& name : order_) pin_one(name, namespaces_.at(name));
  return pins;
}

namespace {

// The table kpath's `to: NODE/localhost` route lives in, and the rules'
// priorities: the route's ahead of the local table's, which moves behind it.
constexpr uint32_t kLoopbackTable = 127;
constexpr uint32_t kLoopbackRulePriority = 50;
constexpr uint32_t kLocalRulePriority = 100;
constexpr uint32_t kDefaultLocalRulePriority = 0;

bool has_rule(const std::vector<netns::RoutingRule>& rules, const netns::RoutingRule& rule) {
  return std::find(rules.begin(), rules.end(), rule) != rules.end();
}

}  // namespace

void Topology::route_loopback_through(const Cluster& c, const std::string& client, const std::string& node) const {
  const Namespace& ns = this->ns(client);
  std::optional<Ip> gateway;
  if (c.pod(client)) gateway = Ip::from(kPodGateway);
  for (const auto& ip : c.node(node)->ips)
    if (!gateway && ip.is_v4()) gateway = ip;
  if (!gateway) throw kpath::Error("node '" + node + "' has no IPv4 address to route 127.0.0.1 through");
  netns::set_sysctl(ns, "net/ipv4/conf/eth0/route_localnet", "1");

  // 127.0.0.1 is in the local table, which the default rule (priority 0)
  // consults before any other: that rule moves behind kpath's.
  const Cidr loopback(Ip::from("127.0.0.1"), 32);
  const netns::RoutingRule local{AF_INET, kLocalRulePriority, std::nullopt, RT_TABLE_LOCAL};
  const netns::RoutingRule default_local{AF_INET, kDefaultLocalRulePriority, std::nullopt, RT_TABLE_LOCAL};
  const netns::RoutingRule to_loopback{AF_INET, kLoopbackRulePriority, loopback, kLoopbackTable};
  Rtnl rt(ns);
  const auto rules = rt.list_rules(AF_INET);
  if (!has_rule(rules, local)) rt.add_rule(local);
  if (has_rule(rules, default_local)) rt.delete_rule(default_local);
  if (!has_rule(rules, to_loopback)) rt.add_rule(to_loopback);
  netns::Route route{loopback, *gateway, "eth0", /*onlink=*/true};
  route.table = kLoopbackTable;
  rt.replace_route(route);
}

}  // namespace harness
