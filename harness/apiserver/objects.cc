#include "harness/apiserver/objects.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdio>

#include "harness/apiserver/selector.h"

namespace harness::apiserver {

namespace {

std::string traffic_policy(TrafficPolicy p) { return p == TrafficPolicy::Local ? "Local" : "Cluster"; }

std::string type_name(ServiceType t) {
  switch (t) {
    case ServiceType::ClusterIP: return "ClusterIP";
    case ServiceType::NodePort: return "NodePort";
    case ServiceType::LoadBalancer: return "LoadBalancer";
  }
  return "ClusterIP";
}

Json metadata(const std::string& ns, const std::string& name, const Labels& labels = {}) {
  Json m = {{"name", name}};
  if (!ns.empty()) m["namespace"] = ns;
  if (!labels.empty()) m["labels"] = labels;
  return m;
}

Json service_port_json(const ServicePort& p) {
  Json j = {{"protocol", to_string(p.protocol)}, {"port", p.port}};
  if (!p.name.empty()) j["name"] = p.name;
  if (!p.target_port_name.empty()) j["targetPort"] = p.target_port_name;
  else j["targetPort"] = p.target_port ? p.target_port : p.port;  // the API server's default
  if (p.node_port) j["nodePort"] = p.node_port;
  return j;
}

template <typename T>
Json strings(const std::vector<T>& v) {
  Json out = Json::array();
  for (const auto& x : v) out.push_back(x.str());
  return out;
}

Json service_spec(const Service& s) {
  std::string ip = s.cluster_ip ? s.cluster_ip->str() : "None";
  Json families = Json::array();
  for (int f : s.families()) families.push_back(family_name(f));
  Json spec = {{"type", type_name(s.type)},
               {"clusterIP", ip},
               {"clusterIPs", s.cluster_ips.size() > 1 ? strings(s.cluster_ips) : Json::array({ip})},
               {"ipFamilies", families},
               {"ipFamilyPolicy", to_string(s.ip_family_policy)},
               {"ports", Json::array()},
               {"sessionAffinity", s.session_affinity_client_ip ? "ClientIP" : "None"},
               {"internalTrafficPolicy", traffic_policy(s.internal_traffic_policy)}};
  for (const auto& p : s.ports) spec["ports"].push_back(service_port_json(p));
  if (!s.selector.empty()) spec["selector"] = s.selector;
  if (s.session_affinity_client_ip)
    spec["sessionAffinityConfig"] = {{"clientIP", {{"timeoutSeconds", s.session_affinity_timeout}}}};
  if (!s.external_ips.empty()) spec["externalIPs"] = strings(s.external_ips);
  if (s.external()) spec["externalTrafficPolicy"] = traffic_policy(s.external_traffic_policy);
  if (s.health_check_node_port) spec["healthCheckNodePort"] = s.health_check_node_port;
  if (!s.load_balancer_source_ranges.empty()) spec["loadBalancerSourceRanges"] = strings(s.load_balancer_source_ranges);
  if (!s.traffic_distribution.empty()) spec["trafficDistribution"] = s.traffic_distribution;
  return spec;
}

Json service_status(const Service& s) {
  Json lb = Json::object();
  if (!s.load_balancer_ips.empty() || !s.load_balancer_proxy_ips.empty()) {
    lb["ingress"] = Json::array();
    for (const auto& ip : s.load_balancer_ips) lb["ingress"].push_back({{"ip", ip.str()}});
    for (const auto& ip : s.load_balancer_proxy_ips) lb["ingress"].push_back({{"ip", ip.str()}, {"ipMode", "Proxy"}});
  }
  return {{"loadBalancer", lb}};
}

Json pod_ref(const std::string& ns, const std::string& pod) {
  return {{"kind", "Pod"}, {"namespace", ns}, {"name", pod}, {"uid", uid_for("Pod", {ns, pod})}};
}

// The endpoint with only its addresses of one family; null when it has none.
Json endpoint_json(const Endpoint& e, int family, const std::string& ns) {
  Json addresses = Json::array();
  for (const auto& ip : e.addresses)
    if (ip.family() == family) addresses.push_back(ip.str());
  if (addresses.empty()) return nullptr;
  Json j = {{"addresses", addresses},
            {"conditions", {{"ready", e.ready}, {"serving", e.serving}, {"terminating", e.terminating}}}};
  if (!e.node_name.empty()) j["nodeName"] = e.node_name;
  if (!e.zone.empty()) j["zone"] = e.zone;
  if (!e.zone_hints.empty()) {
    Json zones = Json::array();
    for (const auto& z : e.zone_hints) zones.push_back({{"name", z}});
    j["hints"] = {{"forZones", zones}};
  }
  if (!e.pod_name.empty()) j["targetRef"] = pod_ref(ns, e.pod_name);
  return j;
}

Json endpoint_ports_json(const std::vector<EndpointPort>& ports) {
  Json out = Json::array();
  for (const auto& p : ports) out.push_back({{"name", p.name}, {"protocol", to_string(p.protocol)}, {"port", p.port}});
  return out;
}

// Address families in the order the slice's endpoints first use them.
std::vector<int> families_in(const EndpointSlice& slice) {
  std::vector<int> out;
  for (const auto& e : slice.endpoints)
    for (const auto& ip : e.addresses)
      if (std::find(out.begin(), out.end(), ip.family()) == out.end()) out.push_back(ip.family());
  return out;
}

Labels slice_labels(const EndpointSlice& slice, const Service* service) {
  Labels l = {{"kubernetes.io/service-name", slice.service},
              {"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"}};
  if (service && !service->cluster_ip) l["service.kubernetes.io/headless"] = "";
  return l;
}

Json one_family_slice(const EndpointSlice& slice, const Service* service, int family, const std::string& name) {
  Json endpoints = Json::array();
  for (const auto& e : slice.endpoints)
    if (Json j = endpoint_json(e, family, slice.ns); !j.is_null()) endpoints.push_back(std::move(j));
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata", metadata(slice.ns, name, slice_labels(slice, service))},
          {"addressType", family_name(family)},
          {"endpoints", endpoints},
          {"ports", endpoint_ports_json(slice.ports)}};
}

// The Endpoints address of one endpoint: its first address of the family.
Json endpoint_address(const Endpoint& e, int family, const std::string& ns) {
  for (const auto& ip : e.addresses) {
    if (ip.family() != family) continue;
    Json a = {{"ip", ip.str()}};
    if (!e.node_name.empty()) a["nodeName"] = e.node_name;
    if (!e.pod_name.empty()) a["targetRef"] = pod_ref(ns, e.pod_name);
    return a;
  }
  return nullptr;
}

int endpoints_family(const Service& s, const std::vector<const EndpointSlice*>& slices) {
  if (s.cluster_ip) return s.cluster_ip->family();
  bool v6_only = false;  // a headless Service: IPv4 when any endpoint has it
  for (const auto* sl : slices)
    for (int f : families_in(*sl)) {
      if (f == AF_INET) return f;
      v6_only = true;
    }
  return v6_only ? AF_INET6 : AF_INET;
}

// One subset's ports, as the Endpoints API spells them.
Json subset_ports(const std::vector<EndpointPort>& ports) {
  Json out = Json::array();
  for (const auto& p : ports) {
    Json j = {{"port", p.port}, {"protocol", to_string(p.protocol)}};
    if (!p.name.empty()) j["name"] = p.name;
    out.push_back(j);
  }
  return out;
}

uint64_t fnv1a(const std::string& s, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

std::string to_string(Bucket b) {
  switch (b) {
    case Bucket::Nodes: return "nodes";
    case Bucket::Services: return "services";
    case Bucket::EndpointSlices: return "endpointslices";
    case Bucket::Endpoints: return "endpoints";
  }
  return "?";
}

Json service_json(const Service& s) {
  Json meta = metadata(s.ns, s.name);
  if (!s.annotations.empty()) meta["annotations"] = s.annotations;
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", meta},
          {"spec", service_spec(s)},
          {"status", service_status(s)}};
}

std::vector<Json> slice_json(const EndpointSlice& slice, const Service* service) {
  std::vector<int> families = families_in(slice);
  if (families.empty()) families = {service && service->cluster_ip ? service->cluster_ip->family() : AF_INET};
  std::vector<Json> out;
  for (size_t i = 0; i < families.size(); ++i) {
    std::string name = slice.name;
    if (i > 0) name += families[i] == AF_INET6 ? "-ipv6" : "-ipv4";
    out.push_back(one_family_slice(slice, service, families[i], name));
  }
  return out;
}

Json endpoints_json(const Service& s, const std::vector<const EndpointSlice*>& slices) {
  int family = endpoints_family(s, slices);
  Json subsets = Json::array();
  std::map<std::string, size_t> by_ports;  // dumped ports -> index in subsets
  for (const auto* sl : slices) {
    Json ports = subset_ports(sl->ports);
    auto [it, fresh] = by_ports.emplace(ports.dump(), subsets.size());
    if (fresh)
      subsets.push_back({{"addresses", Json::array()}, {"notReadyAddresses", Json::array()}, {"ports", ports}});
    Json& subset = subsets[it->second];
    for (const auto& e : sl->endpoints) {
      if (e.terminating) continue;  // the endpoints controller leaves terminating pods out
      Json a = endpoint_address(e, family, s.ns);
      if (!a.is_null()) subset[e.ready ? "addresses" : "notReadyAddresses"].push_back(std::move(a));
    }
  }
  Json kept = Json::array();
  for (auto& subset : subsets) {
    if (subset["addresses"].empty() && subset["notReadyAddresses"].empty()) continue;
    for (const char* k : {"addresses", "notReadyAddresses"})
      if (subset[k].empty()) subset.erase(k);
    kept.push_back(std::move(subset));
  }
  Labels labels;
  if (!s.cluster_ip) labels["service.kubernetes.io/headless"] = "";
  Json j = {{"apiVersion", "v1"}, {"kind", "Endpoints"}, {"metadata", metadata(s.ns, s.name, labels)}};
  if (!kept.empty()) j["subsets"] = kept;
  return j;
}

Json node_json(const Node& n) {
  Labels labels = n.labels;  // the case's (a zone); kubelet's own two win
  labels["kubernetes.io/hostname"] = n.name;
  labels["kubernetes.io/os"] = "linux";
  Json addresses = Json::array();
  for (const auto& ip : n.ips) addresses.push_back({{"type", "InternalIP"}, {"address", ip.str()}});
  addresses.push_back({{"type", "Hostname"}, {"address", n.name}});
  Json spec = Json::object();
  if (n.pod_cidr) spec = {{"podCIDR", n.pod_cidr->str()}, {"podCIDRs", {n.pod_cidr->str()}}};
  Json ready = {{"type", "Ready"}, {"status", "True"}, {"reason", "KubeletReady"}, {"message", "kpath node"}};
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", metadata("", n.name, labels)},
          {"spec", spec},
          {"status", {{"addresses", addresses}, {"conditions", {ready}}}}};
}

ObjectSet objects_of(const Cluster& cluster) {
  ObjectSet out;
  for (Bucket b : kBuckets) out[b];
  for (const auto& n : cluster.nodes) out[Bucket::Nodes][{"", n.name}] = node_json(n);
  for (const auto& s : cluster.services) {
    out[Bucket::Services][{s.ns, s.name}] = service_json(s);
    out[Bucket::Endpoints][{s.ns, s.name}] = endpoints_json(s, cluster.slices_for(s));
  }
  for (const auto& sl : cluster.slices)
    for (auto& j : slice_json(sl, cluster.service(sl.ns, sl.service))) {
      std::string name = j["metadata"]["name"];
      out[Bucket::EndpointSlices][{sl.ns, name}] = std::move(j);
    }
  return out;
}

Json slice_v1_to_v1beta1(const Json& v1) {
  Json j = v1;
  j["apiVersion"] = "discovery.k8s.io/v1beta1";
  for (auto& e : j["endpoints"]) {
    Json topology = Json::object();
    if (e.contains("nodeName")) topology["kubernetes.io/hostname"] = e["nodeName"];
    if (e.contains("zone")) topology["topology.kubernetes.io/zone"] = e["zone"];
    e.erase("zone");  // v1beta1 has no zone field; topology carries it
    if (!topology.empty()) e["topology"] = topology;
  }
  return j;
}

std::map<std::string, std::string> labels_of(const Json& object) {
  std::map<std::string, std::string> out;
  const Json& m = object.at("metadata");
  if (m.contains("labels"))
    for (const auto& [k, v] : m["labels"].items()) out[k] = v.get<std::string>();
  return out;
}

std::map<std::string, std::string> fields_of(const Json& object) {
  const Json& m = object.at("metadata");
  return {{"metadata.name", m.value("name", "")}, {"metadata.namespace", m.value("namespace", "")}};
}

std::string uid_for(const std::string& kind, const ObjectKey& key) {
  std::string s = kind + "/" + key.first + "/" + key.second;
  uint64_t a = fnv1a(s, 0xcbf29ce484222325ULL), b = fnv1a(s, 0x84222325cbf29ce4ULL);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

Json status_json(int code, const std::string& reason, const std::string& message, const Json& details) {
  return {{"kind", "Status"},   {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Failure"},
          {"message", message}, {"reason", reason},   {"details", details},         {"code", code}};
}

}  // namespace harness::apiserver
