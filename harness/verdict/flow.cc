#include "harness/verdict/flow.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "harness/model/links.h"

namespace harness {

namespace {

bool contains(const std::vector<Ip>& v, const Ip& ip) { return std::find(v.begin(), v.end(), ip) != v.end(); }

const Pod* pod_for_endpoint(const Cluster& c, const Endpoint& ep) {
  if (!ep.pod_name.empty())
    if (const Pod* p = c.pod(ep.pod_name)) return p;
  for (const auto& pod : c.pods)
    for (const auto& ip : ep.addresses)
      if (contains(pod.ips, ip)) return &pod;
  return nullptr;
}

bool hinted_for(const Endpoint& ep, const std::string& zone) {
  return std::find(ep.zone_hints.begin(), ep.zone_hints.end(), zone) != ep.zone_hints.end();
}

// Topology-aware routing as kube-proxy 1.31-1.32 applies it on a node of
// `zone`: the Service asks for it (trafficDistribution, or the topology-mode
// annotation Auto), every ready endpoint carries a zone hint and one is for
// this zone. Then only those are used; otherwise every endpoint.
bool zone_routed(const Service& svc, const std::vector<const Endpoint*>& ready, const std::string& zone) {
  auto annotation = [&](const char* key) {
    auto it = svc.annotations.find(key);
    return it == svc.annotations.end() ? std::optional<std::string>() : it->second;
  };
  auto mode = annotation("service.kubernetes.io/topology-mode");
  if (!mode) mode = annotation("service.kubernetes.io/topology-aware-hints");
  const bool wanted = !svc.traffic_distribution.empty() || (mode && (*mode == "Auto" || *mode == "auto"));
  if (!wanted || zone.empty()) return false;
  if (std::any_of(ready.begin(), ready.end(), [](const Endpoint* ep) { return ep->zone_hints.empty(); })) return false;
  return std::any_of(ready.begin(), ready.end(), [&](const Endpoint* ep) { return hinted_for(*ep, zone); });
}

// kube-proxy's endpoint choice: ready endpoints; when none is ready, the
// serving terminating ones; never non-serving ones. `local_to` keeps only
// endpoints on that node (traffic policy Local); otherwise `zone`, the zone of
// the node whose rules pick, may narrow them to those hinted for it.
std::map<std::string, double> eligible_endpoints(const Cluster& c, const Service& svc,
                                                 const std::vector<const EndpointSlice*>& slices, const ServicePort& sp,
                                                 const std::string& local_to, const std::string& zone, int family) {
  std::vector<const Endpoint*> ready, terminating;
  for (const EndpointSlice* slice : slices) {
    // Each family's proxier reads the slices of its addressType only.
    if (slice->family != 0 && slice->family != family) continue;
    bool has_port = std::any_of(slice->ports.begin(), slice->ports.end(),
                                [&](const EndpointPort& p) { return p.name == sp.name && p.protocol == sp.protocol; });
    if (!has_port) continue;
    for (const auto& ep : slice->endpoints) {
      if (ep.ready) ready.push_back(&ep);
      else if (ep.serving && ep.terminating) terminating.push_back(&ep);
    }
  }
  const bool by_zone = local_to.empty() && zone_routed(svc, ready, zone);
  auto pick = [&](const std::vector<const Endpoint*>& eps) {
    std::map<std::string, double> out;
    for (const Endpoint* ep : eps) {
      if (!local_to.empty() && ep->node_name != local_to) continue;
      if (by_zone && !hinted_for(*ep, zone)) continue;
      if (const Pod* p = pod_for_endpoint(c, *ep)) out[p->name] += 1.0;
    }
    return out;
  };
  auto out = pick(ready);
  if (out.empty()) out = pick(terminating);
  return out;
}

// Whether the rules of node `handler` take the pod's traffic for a local
// pod's, by the detect-local mode: its address in the cluster's (or the
// handler's own) pod CIDR, or its arrival on the handler's pod link (a pod of
// another node comes in from the fabric).
bool pod_is_local(const Cluster& c, const Pod& pod, int family, const std::string& handler) {
  const ProxyOptions& o = c.proxy;
  auto in = [&](const std::optional<Cidr>& cidr) {
    return cidr && std::any_of(pod.ips.begin(), pod.ips.end(), [&](const Ip& ip) {
             return ip.family() == family && cidr->ip().family() == family && cidr->contains(ip);
           });
  };
  const Node* node = c.node(handler);
  switch (o.detect_local_mode) {
    case DetectLocalMode::ClusterCIDR: return in(o.cluster_cidr_of(family));
    case DetectLocalMode::NodeCIDR: return node && in(node->pod_cidr);
    case DetectLocalMode::BridgeInterface:
    case DetectLocalMode::InterfaceNamePrefix: {
      if (pod.node != handler) return false;
      const std::string link = pod_node_links(c).at(pod.name);
      return o.detect_local_mode == DetectLocalMode::BridgeInterface ? link == o.detect_local_interface
                                                                     : link.starts_with(o.detect_local_interface);
    }
  }
  return false;
}

// Under externalTrafficPolicy Local, the node whose endpoints may answer, or
// empty when kube-proxy sends the flow to every endpoint: it short-circuits
// traffic from pods (known by the cluster CIDR) and from the handling node
// itself (src-type LOCAL). An externalIP or LB IP sent from inside the cluster
// is handled on the sender's node; anything else on the node receiving it.
std::string external_local_node(const Cluster& c, const Expectation& e, const Flow& f) {
  std::string source_node = c.node_of(e.from);
  std::string handler = f.kind == FlowKind::External && !source_node.empty() ? source_node : f.via_node;
  switch (e.from.kind) {
    case Source::Kind::Node:
      if (e.from.name == handler) return {};
      break;
    case Source::Kind::Pod:
      if (pod_is_local(c, *c.pod(e.from.name), f.target.family(), handler)) return {};
      break;
    case Source::Kind::External: break;
  }
  return handler;
}

}  // namespace

std::vector<Ip> node_addresses(const Cluster& c) {
  std::vector<Ip> out;
  for (const auto& n : c.nodes) {
    bool v4 = false;
    for (const auto& ip : n.ips)
      if (ip.is_v6() || !std::exchange(v4, true)) out.push_back(ip);
  }
  return out;
}

namespace {

// Who sends: the namespace and its addresses.
Flow source_flow(const Cluster& c, const Expectation& e) {
  Flow f;
  f.from_ns = e.from.name;
  f.from_localhost = e.from.localhost;
  switch (e.from.kind) {
    case Source::Kind::Node: f.from_ips = c.node(e.from.name)->ips; break;
    case Source::Kind::Pod: f.from_ips = c.pod(e.from.name)->ips; break;
    case Source::Kind::External: f.from_ips = c.external(e.from.name)->ips; break;
  }
  if (f.from_localhost) f.from_ips = {Ip::from("127.0.0.1")};
  if (e.from.address) {
    f.from_address = e.from.address;
    f.from_ips = {*e.from.address};
  }
  if (e.sources > 0) {
    f.sources = c.external(e.from.name)->sources(e.sources);
    f.from_ips.insert(f.from_ips.end(), f.sources.begin(), f.sources.end());
  }
  return f;
}

// The node whose rules pick the endpoint: for a ClusterIP, externalIP or LB
// IP the sender's own node; a client outside the cluster reaches a ClusterIP
// through the first node and the rest through the node receiving it.
std::string handling_node(const Cluster& c, const Expectation& e, const Flow& f) {
  std::string source_node = c.node_of(e.from);
  if ((f.kind == FlowKind::ClusterIP || f.kind == FlowKind::External) && !source_node.empty()) return source_node;
  if (f.kind == FlowKind::ClusterIP) return c.nodes.empty() ? "" : c.nodes.front().name;
  return f.via_node;
}

// The Service side of a flow that enters `hit`: which endpoints may answer.
void enter_service(const Cluster& c, const Expectation& e, const ServiceHit& hit,
                   const std::vector<const EndpointSlice*>& slices, Flow& f) {
  f.kind = hit.kind;
  f.via_node = hit.via_node;
  f.service = hit.service->key();
  f.affinity = hit.service->session_affinity_client_ip;
  f.service_port = hit.port->name;
  const Service& svc = *hit.service;
  std::string source_node = c.node_of(e.from);
  std::string local_to;
  if (f.kind == FlowKind::ClusterIP && svc.internal_traffic_policy == TrafficPolicy::Local) {
    // The node the traffic enters: the caller's own, or for a client outside
    // the cluster the first node (the fabric routes the service CIDR there).
    local_to = source_node;
    if (local_to.empty() && !c.nodes.empty()) local_to = c.nodes.front().name;
  } else if (f.kind != FlowKind::ClusterIP && svc.external_traffic_policy == TrafficPolicy::Local) {
    local_to = external_local_node(c, e, f);
  }
  const Node* handler = c.node(handling_node(c, e, f));
  f.eligible = eligible_endpoints(c, svc, slices, *hit.port, local_to, handler ? handler->zone() : "",
                                  f.target.family());
}

FlowKind flow_kind(FrontDoor d) {
  switch (d) {
    case FrontDoor::ClusterIP: return FlowKind::ClusterIP;
    case FrontDoor::NodePort: return FlowKind::NodePort;
    case FrontDoor::ExternalIP:
    case FrontDoor::LoadBalancerIP: return FlowKind::External;
    case FrontDoor::ClusterIPUndefinedPort: return FlowKind::Direct;
  }
  return FlowKind::Direct;
}

}  // namespace

Flow resolve_flow(const Cluster& c, const Expectation& e) {
  Flow f = source_flow(c, e);
  f.protocol = e.protocol;
  f.port = e.to.port;
  f.target = c.address_of(e.to);
  f.loopback_via = e.to.via_node;
  // A loopback target is the loopback of the node it is reached through.
  auto hit = c.service_port_at(f.target, f.port, f.protocol,
                               f.loopback_via.empty() ? c.node_of(e.from) : f.loopback_via);
  if (hit) enter_service(c, e, *hit, c.slices_for(*hit->service), f);
  return f;
}

std::vector<Flow> sweep_flows(const Cluster& c, const Expectation& e, const std::vector<DoorTarget>& doors) {
  // Slices by Service, looked up once: a sweep may cross every Service of the cluster.
  std::map<std::pair<std::string, std::string>, std::vector<const EndpointSlice*>> slices;
  for (const auto& sl : c.slices) slices[{sl.ns, sl.service}].push_back(&sl);
  const Flow source = source_flow(c, e);
  std::vector<Flow> out;
  out.reserve(doors.size());
  for (const auto& d : doors) {
    Flow f = source;
    f.protocol = d.port->protocol;
    f.port = d.dport;
    f.target = d.address;
    // A port the Service does not define enters no Service: nobody may answer.
    if (d.door != FrontDoor::ClusterIPUndefinedPort)
      enter_service(c, e, ServiceHit{d.service, d.port, flow_kind(d.door), d.via_node},
                    slices[{d.service->ns, d.service->name}], f);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace harness
