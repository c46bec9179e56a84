#include "harness/verdict/flow.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/error.h"

namespace harness {

std::string to_string(FlowKind k) {
  switch (k) {
    case FlowKind::ClusterIP: return "ClusterIP";
    case FlowKind::NodePort: return "NodePort";
    case FlowKind::External: return "external IP";
    case FlowKind::Direct: return "direct";
  }
  return "?";
}

namespace {

bool contains(const std::vector<Ip>& v, const Ip& ip) { return std::find(v.begin(), v.end(), ip) != v.end(); }

// The node a pod or node source lives on; empty for external clients.
std::string node_of_source(const Cluster& c, const std::string& from) {
  if (c.node(from)) return from;
  if (const Pod* p = c.pod(from)) return p->node;
  return {};
}

const Pod* pod_for_endpoint(const Cluster& c, const Endpoint& ep) {
  if (!ep.pod_name.empty())
    if (const Pod* p = c.pod(ep.pod_name)) return p;
  for (const auto& pod : c.pods)
    for (const auto& ip : ep.addresses)
      if (contains(pod.ips, ip)) return &pod;
  return nullptr;
}

// kube-proxy's endpoint choice: ready endpoints; when none is ready, the
// serving terminating ones; never non-serving ones. `local_to` keeps only
// endpoints on that node (traffic policy Local).
std::map<std::string, double> eligible_endpoints(const Cluster& c, const Service& svc,
                                                 const ServicePort& sp, const std::string& local_to) {
  std::vector<const Endpoint*> ready, terminating;
  for (const EndpointSlice* slice : c.slices_for(svc)) {
    bool has_port = std::any_of(slice->ports.begin(), slice->ports.end(), [&](const EndpointPort& p) {
      return p.name == sp.name && p.protocol == sp.protocol;
    });
    if (!has_port) continue;
    for (const auto& ep : slice->endpoints) {
      if (ep.ready) ready.push_back(&ep);
      else if (ep.serving && ep.terminating) terminating.push_back(&ep);
    }
  }
  auto pick = [&](const std::vector<const Endpoint*>& eps) {
    std::map<std::string, double> out;
    for (const Endpoint* ep : eps) {
      if (!local_to.empty() && ep->node_name != local_to) continue;
      if (const Pod* p = pod_for_endpoint(c, *ep)) out[p->name] += 1.0;
    }
    return out;
  };
  auto out = pick(ready);
  if (out.empty()) out = pick(terminating);
  return out;
}

// The Service port the flow hits, if any; sets kind and via_node.
std::pair<const Service*, const ServicePort*> find_service(const Cluster& c, Flow& f) {
  for (const auto& svc : c.services) {
    for (const auto& sp : svc.ports) {
      if (sp.protocol != f.protocol) continue;
      if (sp.port == f.port && svc.cluster_ip && *svc.cluster_ip == f.target) {
        f.kind = FlowKind::ClusterIP;
      } else if (sp.port == f.port &&
                 (contains(svc.external_ips, f.target) || contains(svc.load_balancer_ips, f.target))) {
        f.kind = FlowKind::External;
        f.via_node = c.nodes.empty() ? "" : c.nodes.front().name;  // where the fabric routes them
      } else if (sp.node_port != 0 && sp.node_port == f.port) {
        const Node* receiver = nullptr;
        for (const auto& n : c.nodes)
          if (contains(n.ips, f.target)) receiver = &n;
        if (!receiver && f.target.is_loopback()) receiver = c.node(node_of_source(c, f.from_ns));
        if (!receiver) continue;
        f.kind = FlowKind::NodePort;
        f.via_node = receiver->name;
      } else {
        continue;
      }
      f.service = svc.key();
      f.service_port = sp.name;
      return {&svc, &sp};
    }
  }
  return {nullptr, nullptr};
}

}  // namespace

std::vector<Ip> node_addresses(const Cluster& c) {
  std::vector<Ip> out;
  for (const auto& n : c.nodes) out.insert(out.end(), n.ips.begin(), n.ips.end());
  return out;
}

Flow resolve_flow(const Cluster& c, const Expectation& e) {
  Flow f;
  f.protocol = e.protocol;
  f.port = e.to_port;
  std::string from = e.from;
  if (auto slash = from.find("/localhost"); slash != std::string::npos && slash + 10 == from.size()) {
    from = from.substr(0, slash);
    f.from_localhost = true;
  }
  f.from_ns = from;
  if (const Node* n = c.node(from)) f.from_ips = n->ips;
  else if (const Pod* p = c.pod(from)) f.from_ips = p->ips;
  else if (const External* x = c.external(from)) f.from_ips = x->ips;
  else throw kpath::Error(e.where.file, e.where.line, e.where.column, fmt::format("unknown source '{}'", e.from));
  if (f.from_localhost) f.from_ips = {Ip::from("127.0.0.1")};

  // Target: a node name, "ns/name" (the Service's ClusterIP), or an IP.
  if (const Node* n = c.node(e.to_host)) {
    f.target = n->ips.front();
  } else if (auto slash = e.to_host.find('/'); slash != std::string::npos) {
    const Service* svc = c.service(e.to_host.substr(0, slash), e.to_host.substr(slash + 1));
    if (!svc || !svc->cluster_ip)
      throw kpath::Error(e.where.file, e.where.line, e.where.column,
                         fmt::format("'{}' names no Service with a ClusterIP", e.to_host));
    f.target = *svc->cluster_ip;
  } else if (const Pod* p = c.pod(e.to_host)) {
    f.target = p->ips.front();
  } else {
    f.target = Ip::from(e.to_host);
  }

  auto [service, service_port] = find_service(c, f);
  if (!service) return f;
  const Service& svc = *service;
  std::string source_node = node_of_source(c, f.from_ns);
  std::string local_to;
  if (f.kind == FlowKind::ClusterIP && svc.internal_traffic_policy == TrafficPolicy::Local) {
    // The node the traffic enters: the caller's own, or for a client outside
    // the cluster the first node (the fabric routes the service CIDR there).
    local_to = source_node;
    if (local_to.empty() && !c.nodes.empty()) local_to = c.nodes.front().name;
  } else if (f.kind != FlowKind::ClusterIP && svc.external_traffic_policy == TrafficPolicy::Local) {
    // Pods and the node itself short-circuit to all endpoints; only traffic
    // from outside the cluster is held to the receiving node's endpoints.
    if (source_node.empty()) local_to = f.via_node;
  }
  f.eligible = eligible_endpoints(c, svc, *service_port, local_to);
  return f;
}

}  // namespace harness
