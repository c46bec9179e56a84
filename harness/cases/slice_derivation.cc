// What Kubernetes' EndpointSlice controller would write for a selector
// Service, so cases need not spell slices out.
#include <algorithm>
#include <set>

#include <sys/socket.h>

#include "base/strings.h"
#include "harness/cases/sections.h"

namespace harness::cases {

namespace {

bool matches(const std::map<std::string, std::string>& selector, const Pod& p) {
  return std::all_of(selector.begin(), selector.end(), [&](const auto& kv) {
    auto it = p.labels.find(kv.first);
    return it != p.labels.end() && it->second == kv.second;
  });
}

// The Service's address families, its primary first; a headless Service takes every family.
std::vector<int> families(const Service& s) {
  if (!s.cluster_ip) return {AF_INET, AF_INET6};
  std::vector<int> out;
  for (const auto& ip : s.cluster_ips) out.push_back(ip.family());
  if (out.empty()) out.push_back(s.cluster_ip->family());
  return out;
}

// The pod's address of one family (a pod has at most one per family).
std::vector<Ip> addresses_for(const Pod& p, int family) {
  std::vector<Ip> out;
  for (const auto& ip : p.ips)
    if (ip.family() == family) out.push_back(ip);
  return out;
}

// A Service port as this pod serves it; nullopt when a named targetPort does
// not resolve (Kubernetes then leaves the port out for this pod).
std::optional<EndpointPort> resolve(const ServicePort& sp, const Pod& p) {
  EndpointPort ep{sp.name, sp.protocol, sp.target_port, sp.where};
  if (sp.target_port_name.empty()) return ep;
  for (const auto& lp : p.listen)
    if (lp.name == sp.target_port_name && lp.protocol == sp.protocol) {
      ep.port = lp.port;
      return ep;
    }
  return std::nullopt;
}

using PortKey = std::vector<std::tuple<std::string, Protocol, uint16_t>>;

PortKey key_of(const std::vector<EndpointPort>& ports) {
  PortKey k;
  for (const auto& p : ports) k.emplace_back(p.name, p.protocol, p.port);
  return k;
}

// As the EndpointSlice controller writes it: the zone is the node's zone
// label; under trafficDistribution PreferClose (Kubernetes 1.31) an endpoint
// with a zone is hinted for that zone. The hints of the topology-mode Auto
// annotation depend on each zone's CPUs and are not derived: give the slice.
Endpoint endpoint_for(const Service& s, const Pod& p, const Cluster& c, std::vector<Ip> addresses) {
  Endpoint e;
  e.addresses = std::move(addresses);
  e.node_name = p.node;
  e.pod_name = p.name;
  if (const Node* n = c.node(p.node)) e.zone = n->zone();
  if (s.traffic_distribution == "PreferClose" && !e.zone.empty()) e.zone_hints = {e.zone};
  return e;
}

// Pods grouped by how they resolve the Service's ports: one slice per group,
// since a slice carries one port number per Service port; and, as the
// EndpointSlice controller does, one addressType per slice. `stem` names them.
std::vector<EndpointSlice> slices_for(const Service& s, const std::vector<const Pod*>& pods, int family,
                                      const std::string& stem, const Cluster& c) {
  std::vector<EndpointSlice> out;
  std::map<PortKey, size_t> by_ports;
  for (const Pod* p : pods) {
    auto addresses = addresses_for(*p, family);
    if (addresses.empty()) continue;
    std::vector<EndpointPort> ports;
    for (const auto& sp : s.ports)
      if (auto ep = resolve(sp, *p)) ports.push_back(*ep);
    if (ports.empty()) continue;
    auto [it, fresh] = by_ports.emplace(key_of(ports), out.size());
    if (fresh) {
      EndpointSlice sl;
      sl.ns = s.ns;
      sl.service = s.name;
      sl.name = stem + (out.empty() ? "" : "-" + std::to_string(out.size() + 1));
      sl.family = family;
      sl.ports = ports;
      sl.where = s.where;
      out.push_back(std::move(sl));
    }
    out[it->second].endpoints.push_back(endpoint_for(s, *p, c, std::move(addresses)));
  }
  return out;
}

}  // namespace

void derive_slices(Cluster& c) {
  std::set<std::pair<std::string, std::string>> explicit_slices;
  for (const auto& sl : c.slices) explicit_slices.insert({sl.ns, sl.service});
  // Pods indexed by label pair, so large cases do not compare every pod with every selector.
  std::map<std::pair<std::string, std::string>, std::vector<const Pod*>> by_label;
  for (const auto& p : c.pods)
    for (const auto& kv : p.labels) by_label[kv].push_back(&p);
  std::vector<EndpointSlice> derived;
  for (const auto& s : c.services) {
    if (s.selector.empty() || explicit_slices.count({s.ns, s.name})) continue;
    std::vector<const Pod*> pods;
    for (const Pod* p : by_label[*s.selector.begin()])
      if (matches(s.selector, *p)) pods.push_back(p);
    // The first family's slices keep the single-stack names.
    bool first = true;
    for (int family : families(s)) {
      std::string stem = s.name + "-kpath" + (first ? "" : family == AF_INET6 ? "-ipv6" : "-ipv4");
      auto slices = slices_for(s, pods, family, stem, c);
      first = first && slices.empty();
      for (auto& sl : slices) derived.push_back(std::move(sl));
    }
  }
  for (auto& sl : derived) c.slices.push_back(std::move(sl));
}

// A port nobody listens on is a fine way to test "refused", so this warns.
void check_listeners(const Reader& r, const Cluster& c) {
  std::set<std::tuple<int, int, uint16_t, Protocol>> warned;  // one warning per place and port
  for (const auto& sl : c.slices) {
    const Service* s = c.service(sl.ns, sl.service);
    for (const auto& ep : sl.ports) {
      auto sp = std::find_if(s->ports.begin(), s->ports.end(),
                             [&](const ServicePort& p) { return p.name == ep.name && p.protocol == ep.protocol; });
      if (sp == s->ports.end()) continue;  // an unpaired slice port is warned about where it is read
      std::vector<std::string> deaf;
      for (const auto& e : sl.endpoints) {
        const Pod* pod = c.pod(e.pod_name);
        if (pod && std::none_of(pod->listen.begin(), pod->listen.end(),
                                [&](const ListenPort& lp) { return lp.port == ep.port && lp.protocol == ep.protocol; }))
          deaf.push_back("'" + pod->name + "'");
      }
      if (deaf.empty() || !warned.insert({ep.where.line, ep.where.column, ep.port, ep.protocol}).second) continue;
      std::string where = std::to_string(ep.port) + "/" + to_string(ep.protocol);
      r.warn(ep.where, "Service '" + s->key() + "' port " + std::to_string(sp->port) + " sends to " + where +
                           ", where " + (deaf.size() == 1 ? "pod " : "pods ") + kpath::join(deaf, ", ") +
                           (deaf.size() == 1 ? " does" : " do") + " not listen: connections " +
                           (deaf.size() == 1 ? "to it" : "to them") + " are refused (add " + where +
                           " to the pod's listen list if that is not what the case tests)");
    }
  }
}

}  // namespace harness::cases
