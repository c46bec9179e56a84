#include "harness/generators/kube_common.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include <sys/socket.h>

#include "base/error.h"

namespace harness::kube {

std::string Args::str() const {
  std::string out;
  for (const auto& t : tokens_) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string EndpointInfo::str() const {
  if (ip.is_v6()) return "[" + ip.str() + "]:" + std::to_string(port);
  return ip.str() + ":" + std::to_string(port);
}

const Node& node_or_throw(const Cluster& cluster, const std::string& node_name) {
  const Node* n = cluster.node(node_name);
  if (!n) throw kpath::Error("kube generator: no node named \"" + node_name + "\" in the cluster");
  return *n;
}

std::optional<Ip> primary_ipv4(const Node& node) { return primary_ip(node, AF_INET); }

std::optional<Ip> primary_ip(const Node& node, int family) {
  for (const auto& ip : node.ips)
    if (ip.family() == family) return ip;
  return std::nullopt;
}

LocalDetector local_detector(const ProxyOptions& o, const Node& node, int family) {
  LocalDetector d;
  auto by_cidr = [&](const std::optional<Cidr>& cidr) {
    if (!cidr || cidr->ip().family() != family) return;
    const std::string c = cidr->network().str(), ip = family == AF_INET6 ? "ip6" : "ip";
    d = {args("-s", c), args("!", "-s", c), args(ip, "saddr", c), args(ip, "saddr", "!=", c)};
  };
  // nft matches an interface name pattern as a quoted string.
  auto by_interface = [&](const std::string& ipt_name, const std::string& nft_name) {
    d = {args("-i", ipt_name), args("!", "-i", ipt_name), args("iifname", quoted(nft_name)),
         args("iifname", "!=", quoted(nft_name))};
  };
  switch (o.detect_local_mode) {
    case DetectLocalMode::ClusterCIDR: by_cidr(o.cluster_cidr_of(family)); break;
    case DetectLocalMode::NodeCIDR: by_cidr(node.pod_cidr); break;
    case DetectLocalMode::BridgeInterface: by_interface(o.detect_local_interface, o.detect_local_interface); break;
    case DetectLocalMode::InterfaceNamePrefix:
      by_interface(o.detect_local_interface + "+", o.detect_local_interface + "*");
      break;
  }
  return d;
}

std::string masquerade_mark(const ProxyOptions& options) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%x", 1u << options.masquerade_bit);
  return buf;
}

namespace {

// The port number an endpoint serves for service port `sp`, following the
// EndpointSlice: the slice port with the service port's name and protocol
// (the EndpointSlice controller has already resolved named targetPorts there).
// Slices written without ports fall back to the Service's targetPort, or for a
// named targetPort to the endpoint pod's container port of that name.
std::optional<uint16_t> slice_port(const Cluster& cluster, const EndpointSlice& slice, const ServicePort& port,
                                   const Endpoint& ep) {
  for (const auto& p : slice.ports)
    if (p.name == port.name && p.protocol == port.protocol) {
      if (p.port == 0) return std::nullopt;
      return p.port;
    }
  if (!slice.ports.empty()) return std::nullopt;
  if (!port.target_port_name.empty()) {
    const Pod* pod = ep.pod_name.empty() ? nullptr : cluster.pod(ep.pod_name);
    if (pod)
      for (const auto& l : pod->listen)
        if (l.name == port.target_port_name && l.protocol == port.protocol) return l.port;
    return std::nullopt;
  }
  uint16_t target = port.target_port ? port.target_port : port.port;
  return target;
}

// Endpoints of one service port, deduplicated by "IP:port" (a terminating
// duplicate never replaces another), sorted by that string as kube-proxy does.
std::vector<EndpointInfo> endpoints(const Cluster& cluster, const std::vector<const EndpointSlice*>& slices,
                                    const ServicePort& port, const std::string& node_name, int family) {
  std::map<std::string, EndpointInfo> set;
  for (const EndpointSlice* slice : slices) {
    if (slice->family != 0 && slice->family != family) continue;  // kube-proxy of one family reads its slices only
    for (const auto& ep : slice->endpoints) {
      if (ep.addresses.empty() || ep.addresses[0].family() != family) continue;
      auto num = slice_port(cluster, *slice, port, ep);
      if (!num) continue;
      const EndpointInfo info{.ip = ep.addresses[0],
                              .port = *num,
                              .local = !node_name.empty() && ep.node_name == node_name,
                              .ready = ep.ready,
                              .serving = ep.serving,
                              .terminating = ep.terminating,
                              .zone_hints = ep.zone_hints};
      std::string key = info.str();
      if (!set.count(key) || !info.terminating) set[key] = info;
    }
  }
  std::vector<EndpointInfo> out;
  for (auto& [k, v] : set) out.push_back(v);
  return out;
}

// The topology-mode annotation (since 1.27), or the older topology-aware-hints
// one when it is absent, set to Auto.
bool auto_topology_mode(const Service& svc) {
  auto mode = svc.annotations.find("service.kubernetes.io/topology-mode");
  if (mode == svc.annotations.end()) mode = svc.annotations.find("service.kubernetes.io/topology-aware-hints");
  return mode != svc.annotations.end() && (mode->second == "Auto" || mode->second == "auto");
}

// Everything kube-proxy's ServicePortInfo holds but the endpoints.
ServicePortInfo port_info(const Service& svc, const ServicePort& port, PortNames style, int family) {
  const bool lb = svc.type == ServiceType::LoadBalancer;
  // apiservice.ExternallyAccessible: NodePort/LoadBalancer, or ClusterIP with externalIPs.
  const bool api_external = svc.type != ServiceType::ClusterIP || !svc.external_ips.empty();
  ServicePortInfo sp;
  sp.service = &svc;
  sp.port = &port;
  sp.name = service_port_name(svc, port, style);
  sp.protocol = lower(port.protocol);
  sp.cluster_ip = *svc.cluster_ip_of(family);
  for (const auto& ip : svc.external_ips)
    if (ip.family() == family) sp.external_ips.push_back(ip);
  if (lb) {
    for (const auto& ip : svc.load_balancer_ips)
      if (ip.family() == family) sp.load_balancer_ips.push_back(ip);
    for (const auto& c : svc.load_balancer_source_ranges)
      if (c.ip().family() == family) sp.source_ranges.push_back(c);
    // A zero-length range of this family allows every source: no ranges at all
    // (kube-proxy 1.34, pkg/proxy/serviceport.go, kubernetes PR 132722).
    if (std::any_of(sp.source_ranges.begin(), sp.source_ranges.end(),
                    [](const Cidr& c) { return c.prefix_len() == 0; }))
      sp.source_ranges.clear();
  }
  if (svc.type != ServiceType::ClusterIP) sp.node_port = port.node_port;
  sp.external_policy_local = api_external && svc.external_traffic_policy == TrafficPolicy::Local;
  sp.internal_policy_local = svc.internal_traffic_policy == TrafficPolicy::Local;
  if (lb && sp.external_policy_local) sp.health_check_node_port = svc.health_check_node_port;
  sp.affinity = svc.session_affinity_client_ip;
  sp.affinity_timeout = svc.session_affinity_timeout;
  sp.topology_wanted = !svc.traffic_distribution.empty() || auto_topology_mode(svc);
  return sp;
}

// kube-proxy's fallback: the ready endpoints, or when none is ready the
// serving terminating ones.
std::vector<EndpointInfo> ready_or_terminating(const std::vector<EndpointInfo>& eps) {
  std::vector<EndpointInfo> out;
  for (const auto& e : eps)
    if (e.ready) out.push_back(e);
  if (!out.empty()) return out;
  for (const auto& e : eps)
    if (e.serving && e.terminating) out.push_back(e);
  return out;
}

}  // namespace

std::string service_port_name(const Service& svc, const ServicePort& port, PortNames style) {
  if (port.name.empty() && style == PortNames::Current) return svc.key();
  return svc.key() + ":" + port.name;
}

std::vector<ServicePortInfo> service_ports(const Cluster& cluster, const std::string& node_name, PortNames style,
                                           int family) {
  std::vector<const Service*> services;
  for (const auto& s : cluster.services) services.push_back(&s);
  std::stable_sort(services.begin(), services.end(),
                   [](const Service* a, const Service* b) { return a->key() < b->key(); });
  // Slices by Service, found once: looking them up per Service is quadratic in a big cluster.
  std::map<std::pair<std::string_view, std::string_view>, std::vector<const EndpointSlice*>> slices;
  for (const auto& sl : cluster.slices) slices[{sl.ns, sl.service}].push_back(&sl);
  const Node* node = cluster.node(node_name);
  std::vector<ServicePortInfo> out;
  for (const Service* svc : services) {
    if (!svc->cluster_ip_of(family)) continue;
    const auto& own = slices[{svc->ns, svc->name}];
    for (const auto& port : svc->ports) {
      out.push_back(port_info(*svc, port, style, family));
      if (node) out.back().node_zone = node->zone();
      out.back().endpoints = endpoints(cluster, own, port, node_name, family);
    }
  }
  return out;
}

bool uses_zone_hints(const ServicePortInfo& sp) {
  if (!sp.topology_wanted) return false;
  bool for_zone = false;
  for (const auto& e : sp.endpoints) {
    if (!e.ready) continue;
    if (e.zone_hints.empty() || sp.node_zone.empty()) return false;
    if (std::find(e.zone_hints.begin(), e.zone_hints.end(), sp.node_zone) != e.zone_hints.end()) for_zone = true;
  }
  return for_zone;
}

Categorized categorize(const ServicePortInfo& sp) {
  Categorized c;
  for (const auto& e : sp.endpoints)
    if (e.ready || (e.serving && e.terminating)) c.has_any = true;
  const bool by_zone = sp.uses_cluster_endpoints() && uses_zone_hints(sp);
  if (by_zone) {
    // Only the ready endpoints hinted for this zone; there is at least one.
    for (const auto& e : sp.endpoints)
      if (e.ready && std::find(e.zone_hints.begin(), e.zone_hints.end(), sp.node_zone) != e.zone_hints.end())
        c.cluster.push_back(e);
  } else if (sp.uses_cluster_endpoints()) {
    c.cluster = ready_or_terminating(sp.endpoints);
  }
  if (!sp.uses_local_endpoints()) {
    c.all_reachable = c.cluster;
    return c;
  }
  std::vector<EndpointInfo> local;
  for (const auto& e : sp.endpoints)
    if (e.local) local.push_back(e);
  c.local = ready_or_terminating(local);
  if (!sp.uses_cluster_endpoints()) {
    c.all_reachable = c.local;
    return c;
  }
  const bool local_terminating = !c.local.empty() && !c.local[0].ready;
  if (!local_terminating && !by_zone) {
    c.all_reachable = c.cluster;  // a superset of the (ready) local endpoints
    return c;
  }
  // Remote endpoints of the cluster list, local ones it may lack (terminating,
  // or hinted for another zone): the union, sorted.
  std::map<std::string, EndpointInfo> merged;
  for (const auto& e : c.cluster) merged[e.str()] = e;
  for (const auto& e : c.local) merged[e.str()] = e;
  for (auto& [k, v] : merged) c.all_reachable.push_back(v);
  return c;
}

PolicyChains policy_chains(const ServicePortInfo& sp, const Categorized& cat, const std::string& cluster_chain,
                           const std::string& local_chain) {
  PolicyChains p{cluster_chain, cluster_chain, cat.has_any, cat.has_any};
  if (sp.internal_policy_local) {
    p.internal = local_chain;
    p.has_internal = cat.has_any && !cat.local.empty();
  }
  if (sp.external_policy_local) {
    p.external = local_chain;
    p.has_external = cat.has_any && !cat.local.empty();
  }
  return p;
}

}  // namespace harness::kube
