#include "harness/generators/model_json.h"

#include <sys/socket.h>

#include "harness/model/links.h"

namespace harness {
namespace {

using nlohmann::json;

json ips(const std::vector<Ip>& v) {
  json a = json::array();
  for (const auto& ip : v) a.push_back(ip.str());
  return a;
}

std::string policy(TrafficPolicy p) { return p == TrafficPolicy::Local ? "Local" : "Cluster"; }

std::string type(ServiceType t) {
  switch (t) {
    case ServiceType::ClusterIP: return "ClusterIP";
    case ServiceType::NodePort: return "NodePort";
    case ServiceType::LoadBalancer: return "LoadBalancer";
  }
  return "?";
}

json ip_families(const Service& s) {
  json out = json::array();
  for (int f : s.families()) out.push_back(family_name(f));
  return out;
}

// A slice's addressType: its family, or for a slice built without one its
// first endpoint address's (IPv4 when empty).
std::string address_type(const EndpointSlice& sl) {
  if (sl.family != 0) return family_name(sl.family);
  for (const auto& e : sl.endpoints)
    if (!e.addresses.empty()) return family_name(e.addresses.front().family());
  return family_name(AF_INET);
}

json labels(const std::map<std::string, std::string>& m) {
  json o = json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

json service(const Service& s) {
  json ports = json::array();
  for (const auto& p : s.ports)
    ports.push_back({{"name", p.name},
                     {"protocol", to_string(p.protocol)},
                     {"port", p.port},
                     {"targetPort", p.target_port_name.empty() ? json(p.target_port) : json(p.target_port_name)},
                     {"nodePort", p.node_port}});
  json ranges = json::array();
  for (const auto& r : s.load_balancer_source_ranges) ranges.push_back(r.str());
  return {{"namespace", s.ns},
          {"name", s.name},
          {"type", type(s.type)},
          {"clusterIP", s.cluster_ip ? s.cluster_ip->str() : "None"},
          {"clusterIPs", s.cluster_ips.empty() && s.cluster_ip ? ips({*s.cluster_ip}) : ips(s.cluster_ips)},
          {"externalIPs", ips(s.external_ips)},
          {"loadBalancerIPs", ips(s.load_balancer_ips)},
          {"loadBalancerProxyIPs", ips(s.load_balancer_proxy_ips)},
          {"loadBalancerSourceRanges", ranges},
          {"ports", ports},
          {"externalTrafficPolicy", policy(s.external_traffic_policy)},
          {"internalTrafficPolicy", policy(s.internal_traffic_policy)},
          {"sessionAffinity", s.session_affinity_client_ip ? "ClientIP" : "None"},
          {"sessionAffinityTimeoutSeconds", s.session_affinity_timeout},
          {"healthCheckNodePort", s.health_check_node_port},
          {"ipFamilies", ip_families(s)},
          {"ipFamilyPolicy", to_string(s.ip_family_policy)},
          {"trafficDistribution", s.traffic_distribution},
          // The model carries no Service labels; present so programs need not special-case them.
          {"labels", json::object()},
          {"annotations", labels(s.annotations)}};
}

json zone_names(const std::vector<std::string>& zones) {
  json out = json::array();
  for (const auto& z : zones) out.push_back({{"name", z}});
  return out;
}

json slice(const EndpointSlice& sl) {
  json ports = json::array();
  for (const auto& p : sl.ports)
    ports.push_back({{"name", p.name}, {"protocol", to_string(p.protocol)}, {"port", p.port}});
  json eps = json::array();
  for (const auto& e : sl.endpoints)
    eps.push_back({{"addresses", ips(e.addresses)},
                   {"nodeName", e.node_name},
                   {"pod", e.pod_name},
                   {"zone", e.zone},
                   {"hints", {{"forZones", zone_names(e.zone_hints)}}},
                   {"conditions", {{"ready", e.ready}, {"serving", e.serving}, {"terminating", e.terminating}}}});
  return {{"namespace", sl.ns}, {"name", sl.name}, {"service", sl.service}, {"addressType", address_type(sl)},
          {"ports", ports},     {"endpoints", eps}};
}

// A node's labels as kpath's API server serves them: the case's, and kubelet's two.
json node_labels(const Node& n) {
  json o = json::object();
  for (const auto& [k, v] : n.labels) o[k] = v;
  o["kubernetes.io/hostname"] = n.name;
  o["kubernetes.io/os"] = "linux";
  return o;
}

// The namespace path of name, or null when the run gives none.
json netns_path(const RunContext& context, const std::string& name) {
  auto it = context.netns.find(name);
  return it == context.netns.end() ? json(nullptr) : json(it->second);
}

json pods(const Cluster& c, const RunContext& context) {
  const auto links = pod_node_links(c);
  json out = json::array();
  for (const auto& p : c.pods)
    out.push_back({{"name", p.name},
                   {"node", p.node},
                   {"ips", ips(p.ips)},
                   {"labels", labels(p.labels)},
                   {"links", {{"node", links.at(p.name)}, {"pod", kPodLink}}},
                   {"netns", netns_path(context, p.name)}});
  return out;
}

json externals(const Cluster& c, const RunContext& context) {
  json out = json::array();
  for (const auto& e : c.externals)
    out.push_back({{"name", e.name},
                   {"ips", ips(e.ips)},
                   // The network it also sends from (empty: none); nodes route it through the client.
                   {"sourceRange", e.source_range ? e.source_range->str() : ""},
                   {"netns", netns_path(context, e.name)}});
  return out;
}

json cidr_list(const std::vector<Cidr>& cidrs) {
  json out = json::array();
  for (const auto& c : cidrs) out.push_back(c.str());
  return out;
}

}  // namespace

json model_json(const Cluster& c, const std::string& node, const RunContext& context) {
  json nodes = json::array();
  for (const auto& n : c.nodes)
    nodes.push_back({{"name", n.name},
                     {"ips", ips(n.ips)},
                     {"podCIDRs", n.pod_cidr ? json::array({n.pod_cidr->str()}) : json::array()},
                     {"labels", node_labels(n)},
                     {"netns", netns_path(context, n.name)}});
  json services = json::array();
  for (const auto& s : c.services) services.push_back(service(s));
  json slices = json::array();
  for (const auto& s : c.slices) slices.push_back(slice(s));
  json cidrs = json::array();
  for (const auto& r : c.proxy.node_port_addresses) cidrs.push_back(r.str());
  return {{"schema", "kpath.model/v1"},
          {"node", node},
          {"iptables", context.iptables},
          {"scratch", context.scratch},
          {"podCIDR", c.pod_cidr.str()},
          {"serviceCIDR", c.service_cidr.str()},
          {"podCIDRs", cidr_list(c.pod_cidrs.empty() ? std::vector<Cidr>{c.pod_cidr} : c.pod_cidrs)},
          {"serviceCIDRs", cidr_list(c.service_cidrs.empty() ? std::vector<Cidr>{c.service_cidr} : c.service_cidrs)},
          {"nodes", nodes},
          {"pods", pods(c, context)},
          {"externals", externals(c, context)},
          {"services", services},
          {"endpointSlices", slices},
          {"proxy",
           // The primary family's detector (an IPv6-only cluster's is the IPv6 one).
           {{"clusterCIDR", c.proxy.cluster_cidr      ? c.proxy.cluster_cidr->str()
                            : c.proxy.cluster_cidr_v6 ? c.proxy.cluster_cidr_v6->str()
                                                      : ""},
            {"masqueradeAll", c.proxy.masquerade_all},
            {"nodePortAddresses", cidrs},
            {"localhostNodePorts", c.proxy.localhost_node_ports},
            {"randomFully", c.proxy.random_fully},
            {"masqueradeBit", c.proxy.masquerade_bit}}}};
}

}  // namespace harness
