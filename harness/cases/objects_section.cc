#include <algorithm>
#include <cctype>
#include <set>

#include <sys/socket.h>

#include "base/strings.h"
#include "harness/cases/case_loader.h"
#include "harness/cases/sections.h"

namespace harness::cases {

namespace {

const char* kServiceNameLabel = "kubernetes.io/service-name";

YAML::Node value_of(const YAML::Node& map, const std::string& key) {
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  return YAML::Node();
}

struct Meta {
  std::string name, ns;
  std::map<std::string, std::string> labels, annotations;
  YAML::Node labels_node;  // to point errors at one label
};

Meta read_metadata(const Reader& r, const YAML::Node& n, const std::string& kind) {
  MapReader m(r, n, kind + " metadata", {"name", "namespace", "labels", "annotations"});
  Meta meta;
  meta.name = name(r, m.need("name"), "metadata 'name'");
  meta.ns = m.has("namespace") ? name(r, m.need("namespace"), "metadata 'namespace'") : "default";
  meta.labels = string_map(r, m.get("labels"), "metadata 'labels'");
  meta.labels_node = m.get("labels");
  meta.annotations = string_map(r, m.get("annotations"), "metadata 'annotations'", /*multiline=*/true);
  return meta;
}

// IANA service name, as Kubernetes requires of named ports: lowercase letters,
// digits and '-', at most 15 characters, at least one letter.
bool iana_name(const std::string& s) {
  return !s.empty() && s.size() <= 15 && s.front() != '-' && s.back() != '-' && s.find("--") == std::string::npos &&
         std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '-'; }) &&
         std::any_of(s.begin(), s.end(), [](unsigned char c) { return std::islower(c); });
}

// targetPort: a number, or a container port name resolved per endpoint.
void read_target_port(const Reader& r, const YAML::Node& n, ServicePort& sp) {
  if (n.IsScalar() && n.Tag() == "?" && !n.Scalar().empty() &&
      std::isdigit(static_cast<unsigned char>(n.Scalar()[0]))) {
    sp.target_port = port(r, n, "'targetPort'");
    return;
  }
  std::string s = text(r, n, "'targetPort'");
  if (!iana_name(s))
    r.fail(n,
           "'targetPort' must be a port number from 1 to 65535 or a port name (lowercase "
           "letters, digits and '-', at most 15 characters), got " +
               describe(n));
  sp.target_port_name = s;
}

ServicePort read_service_port(const Reader& r, const YAML::Node& n, const Service& s, const Cluster& c) {
  MapReader m(r, n, "Service port", {"name", "protocol", "port", "targetPort", "nodePort", "appProtocol"});
  ServicePort sp;
  sp.where = r.where(n);
  if (m.has("name")) sp.name = name(r, m.need("name"), "port 'name'");
  // kube-proxy's ServicePortName, as long as the generators write it.
  const std::string port_name = s.key() + ":" + sp.name;
  if (port_name.size() > kMaxServicePortNameLength)
    r.fail(m.mark_of("name"), "the Service port's name '" + port_name + "' (NAMESPACE/SERVICE:PORT) is " +
                                  std::to_string(port_name.size()) +
                                  " characters long; kube-nftables writes it "
                                  "as an nft comment, which holds at most " +
                                  std::to_string(kMaxServicePortNameLength) + ": shorten the names");
  if (m.has("protocol")) sp.protocol = protocol(r, m.need("protocol"), "'protocol'");
  sp.port = port(r, m.need("port"), "'port'");
  sp.target_port = sp.port;
  if (m.has("targetPort")) {
    sp.target_port = 0;
    read_target_port(r, m.need("targetPort"), sp);
  }
  if (m.has("appProtocol")) text(r, m.need("appProtocol"), "'appProtocol'");
  if (m.has("nodePort")) {
    YAML::Node np = m.need("nodePort");
    if (!s.external()) r.fail(np, "'nodePort' needs a Service of type NodePort or LoadBalancer, this one is ClusterIP");
    sp.node_port = static_cast<uint16_t>(integer(r, np, "'nodePort'", c.node_port_min, c.node_port_max));
  }
  return sp;
}

// Node ports are unique per protocol across the cluster, this Service's own
// ports included; health-check node ports (TCP) share the space.
void check_node_port_free(const Reader& r, const YAML::Node& at, const Service& s, const ServicePort& p,
                          const Cluster& c) {
  if (!p.node_port) return;
  std::string port = std::to_string(p.node_port);
  for (const auto& q : s.ports)
    if (p.node_port == q.node_port && p.protocol == q.protocol)
      r.fail(at, "Service '" + s.key() + "' nodePort " + port + " is already used by its port " +
                     std::to_string(q.port) + " (line " + std::to_string(q.where.line) +
                     "): each port needs its own nodePort");
  for (const auto& other : c.services) {
    for (const auto& q : other.ports)
      if (p.node_port == q.node_port && p.protocol == q.protocol)
        r.fail(at, "Service '" + s.key() + "' nodePort " + port + " is already used by Service '" + other.key() + "'");
    if (p.protocol == Protocol::TCP && p.node_port == other.health_check_node_port)
      r.fail(at, "Service '" + s.key() + "' nodePort " + port + " is Service '" + other.key() +
                     "' healthCheckNodePort, which kube-proxy serves itself on every node");
  }
}

void check_health_port_free(const Reader& r, const YAML::Node& at, const Service& s, const Cluster& c) {
  std::string port = std::to_string(s.health_check_node_port);
  for (const auto& q : s.ports)
    if (q.node_port == s.health_check_node_port && q.protocol == Protocol::TCP)
      r.fail(at, "Service '" + s.key() + "' healthCheckNodePort " + port + " is also the nodePort of its port " +
                     std::to_string(q.port) + ": kube-proxy serves health checks on a port of their own");
  for (const auto& other : c.services) {
    if (s.health_check_node_port == other.health_check_node_port)
      r.fail(at, "Service '" + s.key() + "' healthCheckNodePort " + port + " is already used by Service '" +
                     other.key() + "'");
    for (const auto& q : other.ports)
      if (q.node_port == s.health_check_node_port && q.protocol == Protocol::TCP)
        r.fail(at, "Service '" + s.key() + "' healthCheckNodePort " + port + " is already the nodePort of Service '" +
                       other.key() + "' port " + std::to_string(q.port));
  }
}

void read_ports(const Reader& r, const YAML::Node& n, Service& s, const Cluster& c, bool need_node_ports) {
  auto items = list(r, n, "'ports'");
  if (items.empty()) r.fail(n, "'ports' is empty: a Service needs at least one port");
  std::set<std::string> names;
  std::set<std::pair<Protocol, uint16_t>> ports;
  for (const auto& pn : items) {
    ServicePort sp = read_service_port(r, pn, s, c);
    if (items.size() > 1 && sp.name.empty())
      r.fail(pn, "Service '" + s.key() + "' has several ports, so each needs a 'name'");
    if (!names.insert(sp.name).second) r.fail(pn, "Service '" + s.key() + "' has two ports named '" + sp.name + "'");
    if (!ports.insert({sp.protocol, sp.port}).second)
      r.fail(pn,
             "Service '" + s.key() + "' has port " + std::to_string(sp.port) + "/" + to_string(sp.protocol) + " twice");
    check_node_port_free(r, pn, s, sp, c);
    if (need_node_ports && sp.node_port == 0)
      r.fail(pn, "Service '" + s.key() + "' port " + std::to_string(sp.port) +
                     " needs a 'nodePort' (kpath does not allocate one)");
    s.ports.push_back(sp);
  }
}

// The highest address of an IPv4 prefix.
Ip last_address(const Cidr& cidr) {
  uint32_t host_bits = cidr.prefix_len() == 0 ? 0xFFFFFFFFu : (1u << (32 - cidr.prefix_len())) - 1;
  return Ip::v4(cidr.network().ip().v4_host_order() | host_bits);
}

// One ClusterIP: inside the serviceCIDR of its family, never that range's
// network or (IPv4) broadcast address.
Ip read_one_cluster_ip(const Reader& r, const YAML::Node& n, const Service& s, const Cluster& c, AddressBook& book) {
  Ip ip = address(r, n, "'clusterIP' (or None)");
  check_safe(r, n, ip, "Service '" + s.key() + "' clusterIP");
  auto range = c.service_cidr_of(ip.family());
  if (!range)
    r.fail(n, "Service '" + s.key() + "' clusterIP " + ip.str() + " is " + family_name(ip.family()) +
                  ", but serviceCIDR " + c.service_cidr.str() + " has no " + family_name(ip.family()) + " range");
  if (!range->contains(ip))
    r.fail(n, "Service '" + s.key() + "' clusterIP " + ip.str() + " is outside serviceCIDR " + range->str());
  if (ip == range->network().ip())
    r.fail(n, "Service '" + s.key() + "' clusterIP " + ip.str() + " is the network address of serviceCIDR " +
                  range->str() + ", which Kubernetes never allocates: pick another address");
  if (ip.is_v4() && range->prefix_len() < 31 && ip == last_address(*range))
    r.fail(n, "Service '" + s.key() + "' clusterIP " + ip.str() + " is the broadcast address of serviceCIDR " +
                  range->str() + ", which Kubernetes never allocates: pick another address");
  book.claim(r, n, ip, "Service '" + s.key() + "' clusterIP");
  return ip;
}

// ipFamilyPolicy: SingleStack unless given; RequireDualStack needs a
// dual-stack cluster (the API server refuses it otherwise).
void read_family_policy(const Reader& r, const MapReader& m, Service& s, const Cluster& c) {
  if (!m.has("ipFamilyPolicy")) return;
  std::string p = choice(r, m.need("ipFamilyPolicy"), "'ipFamilyPolicy'",
                         {"SingleStack", "PreferDualStack", "RequireDualStack"});
  s.ip_family_policy = p == "RequireDualStack"  ? IpFamilyPolicy::RequireDualStack
                       : p == "PreferDualStack" ? IpFamilyPolicy::PreferDualStack
                                                : IpFamilyPolicy::SingleStack;
  if (s.ip_family_policy == IpFamilyPolicy::RequireDualStack && c.families().size() < 2)
    r.fail(m.need("ipFamilyPolicy"), "Service '" + s.key() +
                                         "' has ipFamilyPolicy RequireDualStack, but the "
                                         "cluster is single-stack (serviceCIDR " +
                                         c.service_cidr.str() + "): list an IPv4 and an IPv6 serviceCIDR and podCIDR");
}

// ipFamilies: one or two distinct families, each one the cluster runs.
std::vector<int> read_families(const Reader& r, const MapReader& m, const Service& s, const Cluster& c) {
  std::vector<int> out;
  if (!m.has("ipFamilies")) return out;
  auto items = list(r, m.need("ipFamilies"), "'ipFamilies'");
  if (items.empty() || items.size() > 2)
    r.fail(m.need("ipFamilies"), "'ipFamilies' must list one or two families, got " + describe(m.need("ipFamilies")));
  for (const auto& f : items) {
    int family = choice(r, f, "'ipFamilies' entry", {"IPv4", "IPv6"}) == "IPv4" ? AF_INET : AF_INET6;
    if (!out.empty() && out[0] == family) r.fail(f, "'ipFamilies' lists " + family_name(family) + " twice");
    if (!c.service_cidr_of(family))
      r.fail(f, "Service '" + s.key() + "' asks for " + family_name(family) + ", but serviceCIDR " +
                    c.service_cidr.str() + " has no " + family_name(family) + " range");
    out.push_back(family);
  }
  if (out.size() == 2 && s.ip_family_policy == IpFamilyPolicy::SingleStack)
    r.fail(m.need("ipFamilies"),
           "'ipFamilies' lists two families, which needs ipFamilyPolicy PreferDualStack or "
           "RequireDualStack (Service '" +
               s.key() + "' is SingleStack)");
  return out;
}

// How many families the Service gets, as the API server decides it.
size_t wanted_families(const Service& s, const Cluster& c) {
  if (s.ip_family_policy == IpFamilyPolicy::SingleStack) return 1;
  if (s.ip_family_policy == IpFamilyPolicy::RequireDualStack) return 2;
  return c.families().size();  // PreferDualStack: both where the cluster has both
}

// clusterIP / clusterIPs: an address per family inside that family's
// serviceCIDR (the primary's first), or None (headless), matching
// ipFamilies and ipFamilyPolicy; kpath allocates none.
void read_cluster_ip(const Reader& r, const MapReader& m, Service& s, const Cluster& c, AddressBook& book) {
  read_family_policy(r, m, s, c);
  const std::vector<int> families = read_families(r, m, s, c);
  std::vector<YAML::Node> given;
  if (m.has("clusterIPs")) given = list(r, m.need("clusterIPs"), "'clusterIPs'");
  if (given.size() > 2)
    r.fail(given[2], "'clusterIPs' has " + std::to_string(given.size()) + " entries: at most one per family (two)");
  if (m.has("clusterIP")) {
    YAML::Node ip = m.need("clusterIP");
    if (!given.empty() && (!given[0].IsScalar() || !ip.IsScalar() || given[0].Scalar() != ip.Scalar()))
      r.fail(given[0], "'clusterIPs' first entry " + describe(given[0]) + " must equal 'clusterIP' " + describe(ip));
    if (given.empty()) given = {ip};
  }
  if (given.empty())
    r.fail(m.node(), "Service '" + s.key() + "' needs a 'clusterIP' inside serviceCIDR " + c.service_cidr.str() +
                         " (or None for headless); kpath does not allocate one");
  if (given[0].IsScalar() && given[0].Scalar() == "None") {
    if (s.external())
      r.fail(given[0], "a headless Service (clusterIP: None) cannot be of type NodePort or LoadBalancer");
    if (given.size() > 1) r.fail(given[1], "a headless Service has the one clusterIPs entry None");
    return;
  }
  for (const auto& n : given) {
    Ip ip = read_one_cluster_ip(r, n, s, c, book);
    for (const auto& other : s.cluster_ips)
      if (other.family() == ip.family())
        r.fail(n, "Service '" + s.key() + "' has two " + family_name(ip.family()) + " clusterIPs (" + other.str() +
                      ", " + ip.str() + "): give one per family");
    if (s.cluster_ips.size() < families.size() && families[s.cluster_ips.size()] != ip.family())
      r.fail(n, "clusterIPs entry " + ip.str() + " is " + family_name(ip.family()) + ", but 'ipFamilies' lists " +
                    family_name(families[s.cluster_ips.size()]) + " in that place");
    s.cluster_ips.push_back(ip);
  }
  const size_t want = wanted_families(s, c);
  if (s.cluster_ips.size() > want)
    r.fail(given[1], "Service '" + s.key() +
                         "' has two clusterIPs, which needs ipFamilyPolicy PreferDualStack or "
                         "RequireDualStack (it is SingleStack)");
  if (s.cluster_ips.size() < want || s.cluster_ips.size() < families.size())
    r.fail(given.back(), "Service '" + s.key() +
                             "' is dual-stack and needs a clusterIP of each family in "
                             "'clusterIPs' (kpath does not allocate one)");
  s.cluster_ip = s.cluster_ips.front();
}

// externalIPs and load-balancer ingress IPs: may be shared between Services and
// equal a node address, but must not be a pod's, an external's or a ClusterIP.
Ip read_service_address(const Reader& r, const YAML::Node& n, const std::string& what, const Service& s,
                        const Cluster& c, const AddressBook& book) {
  Ip ip = address(r, n, what);
  check_safe(r, n, ip, "Service '" + s.key() + "' " + what);
  auto in = [&](const std::vector<Cidr>& cidrs) {
    return std::any_of(cidrs.begin(), cidrs.end(), [&](const Cidr& cidr) { return cidr.contains(ip); });
  };
  if (in(c.pod_cidrs) || in(c.service_cidrs) || c.pod_cidr.contains(ip) || c.service_cidr.contains(ip))
    r.fail(n, "Service '" + s.key() + "' " + what + " " + ip.str() + " is inside podCIDR or serviceCIDR");
  const std::string* owner = book.owner(ip);
  if (owner && !owner->starts_with("node "))
    r.fail(n, "Service '" + s.key() + "' " + what + " " + ip.str() + " is already used by " + *owner);
  return ip;
}

void read_session_affinity(const Reader& r, const MapReader& m, Service& s) {
  if (m.has("sessionAffinity"))
    s.session_affinity_client_ip = choice(r, m.need("sessionAffinity"), "'sessionAffinity'", {"None", "ClientIP"}) ==
                                   "ClientIP";
  if (!m.has("sessionAffinityConfig")) return;
  if (!s.session_affinity_client_ip)
    r.fail(m.key_mark("sessionAffinityConfig"), "'sessionAffinityConfig' needs sessionAffinity: ClientIP (Service '" +
                                                    s.key() + "' has None, so kube-proxy would ignore the timeout)");
  MapReader cfg(r, m.need("sessionAffinityConfig"), "sessionAffinityConfig", {"clientIP"});
  MapReader ip(r, cfg.need("clientIP"), "sessionAffinityConfig.clientIP", {"timeoutSeconds"});
  if (ip.has("timeoutSeconds"))
    s.session_affinity_timeout = static_cast<int>(integer(r, ip.need("timeoutSeconds"), "'timeoutSeconds'", 1, 86400));
}

// Kubernetes accepts source ranges of either family; kube-proxy of one family
// ignores the others', and with none of its own left it lets every source in.
void read_source_ranges(const Reader& r, const MapReader& m, Service& s) {
  if (s.type != ServiceType::LoadBalancer)
    r.fail(m.key_mark("loadBalancerSourceRanges"),
           "'loadBalancerSourceRanges' needs a Service of type LoadBalancer (Service '" + s.key() + "' is not)");
  size_t own_family = 0;
  std::vector<YAML::Node> other_family;
  for (const auto& cn : list(r, m.need("loadBalancerSourceRanges"), "'loadBalancerSourceRanges'")) {
    Cidr range = cidr(r, cn, "'loadBalancerSourceRanges' entry");
    s.load_balancer_source_ranges.push_back(range);
    if (s.cluster_ip && !s.cluster_ip_of(range.ip().family())) other_family.push_back(cn);
    else ++own_family;
  }
  for (const auto& cn : other_family)
    r.warn(cn, "loadBalancerSourceRanges entry " + cn.Scalar() + " is not of Service '" + s.key() + "''s family (" +
                   (s.cluster_ip->is_v4() ? "IPv4" : "IPv6") + "): kube-proxy ignores it" +
                   (own_family == 0 ? ", and with no range of its family left, lets every source in" : ""));
}

void read_status(const Reader& r, const YAML::Node& n, Service& s, const Cluster& c, const AddressBook& book) {
  MapReader st(r, n, "Service status", {"loadBalancer"});
  if (!st.has("loadBalancer")) return;
  if (s.type != ServiceType::LoadBalancer)
    r.fail(st.key_mark("loadBalancer"), "status.loadBalancer needs a Service of type LoadBalancer");
  MapReader lb(r, st.need("loadBalancer"), "status.loadBalancer", {"ingress"});
  if (!lb.has("ingress")) return;
  for (const auto& in : list(r, lb.need("ingress"), "'ingress'")) {
    MapReader im(r, in, "status.loadBalancer.ingress entry", {"ip", "ipMode"});
    Ip ip = read_service_address(r, im.need("ip"), "load-balancer IP", s, c, book);
    const bool proxy = im.has("ipMode") && choice(r, im.need("ipMode"), "'ipMode'", {"VIP", "Proxy"}) == "Proxy";
    (proxy ? s.load_balancer_proxy_ips : s.load_balancer_ips).push_back(ip);
  }
}

void read_spec(const Reader& r, const YAML::Node& n, Service& s, const Cluster& c, AddressBook& book) {
  MapReader m(r, n, "Service spec",
              {"type", "clusterIP", "clusterIPs", "selector", "ports", "externalIPs", "externalTrafficPolicy",
               "internalTrafficPolicy", "sessionAffinity", "sessionAffinityConfig", "loadBalancerSourceRanges",
               "healthCheckNodePort", "ipFamilies", "ipFamilyPolicy", "allocateLoadBalancerNodePorts",
               "trafficDistribution"});
  if (m.has("type")) {
    std::string t = choice(r, m.need("type"), "'type'", {"ClusterIP", "NodePort", "LoadBalancer"});
    s.type = t == "NodePort"       ? ServiceType::NodePort
             : t == "LoadBalancer" ? ServiceType::LoadBalancer
                                   : ServiceType::ClusterIP;
  }
  bool allocate = true;
  if (m.has("allocateLoadBalancerNodePorts")) {
    allocate = boolean(r, m.need("allocateLoadBalancerNodePorts"), "'allocateLoadBalancerNodePorts'");
    if (s.type != ServiceType::LoadBalancer)
      r.fail(m.key_mark("allocateLoadBalancerNodePorts"),
             "'allocateLoadBalancerNodePorts' needs a Service of type LoadBalancer");
  }
  read_cluster_ip(r, m, s, c, book);
  s.selector = string_map(r, m.get("selector"), "'selector'");
  read_ports(r, m.need("ports"), s, c,
             s.type == ServiceType::NodePort || (s.type == ServiceType::LoadBalancer && allocate));
  if (m.has("externalIPs"))
    for (const auto& e : list(r, m.need("externalIPs"), "'externalIPs'"))
      s.external_ips.push_back(read_service_address(r, e, "externalIP", s, c, book));
  auto policy = [&](const char* key) {
    return choice(r, m.need(key), std::string("'") + key + "'", {"Cluster", "Local"}) == "Local"
               ? TrafficPolicy::Local
               : TrafficPolicy::Cluster;
  };
  if (m.has("externalTrafficPolicy")) {
    if (!s.external() && s.external_ips.empty())
      r.fail(m.key_mark("externalTrafficPolicy"),
             "'externalTrafficPolicy' applies to traffic from outside the cluster: it needs type NodePort or "
             "LoadBalancer, or externalIPs (Service '" +
                 s.key() + "' is a ClusterIP Service without them)");
    s.external_traffic_policy = policy("externalTrafficPolicy");
  }
  if (m.has("internalTrafficPolicy")) s.internal_traffic_policy = policy("internalTrafficPolicy");
  // kpath models kube-proxy 1.31-1.32, where PreferClose is the one value
  // (PreferSameZone and PreferSameNode came with 1.33 and 1.34).
  if (m.has("trafficDistribution"))
    s.traffic_distribution = choice(r, m.need("trafficDistribution"), "'trafficDistribution'", {"PreferClose"});
  read_session_affinity(r, m, s);
  if (m.has("loadBalancerSourceRanges")) read_source_ranges(r, m, s);
  if (m.has("healthCheckNodePort")) {
    YAML::Node h = m.need("healthCheckNodePort");
    if (s.type != ServiceType::LoadBalancer || s.external_traffic_policy != TrafficPolicy::Local)
      r.fail(h, "'healthCheckNodePort' needs type LoadBalancer with externalTrafficPolicy Local");
    s.health_check_node_port = static_cast<uint16_t>(
        integer(r, h, "'healthCheckNodePort'", c.node_port_min, c.node_port_max));
    check_health_port_free(r, h, s, c);
  }
}

void read_service(const Reader& r, const MapReader& m, Cluster& c, AddressBook& book) {
  Service s;
  Meta meta = read_metadata(r, m.need("metadata"), "Service");
  s.name = meta.name;
  s.ns = meta.ns;
  s.annotations = meta.annotations;
  s.where = r.where(m.node());
  if (c.service(s.ns, s.name)) r.fail(m.need("metadata"), "duplicate Service '" + s.key() + "'");
  read_spec(r, m.need("spec"), s, c, book);
  if (m.has("status")) read_status(r, m.need("status"), s, c, book);
  c.services.push_back(std::move(s));
}

// The pod that has `ip`, or nullptr.
const Pod* pod_with(const Cluster& c, const Ip& ip) {
  for (const auto& p : c.pods)
    if (std::find(p.ips.begin(), p.ips.end(), ip) != p.ips.end()) return &p;
  return nullptr;
}

// An endpoint address must not be a Service's (the DNAT would loop); one that
// is no pod's is legal Kubernetes, but nothing of kpath's answers there.
void check_endpoint_address(const Reader& r, const YAML::Node& at, const Ip& ip, const Cluster& c,
                            const AddressBook& book) {
  auto range = c.service_cidr_of(ip.family());
  if (range && range->contains(ip)) {
    const std::string* owner = book.owner(ip);
    r.fail(at, "endpoint address " + ip.str() + " is inside serviceCIDR " + range->str() +
                   (owner ? " (the " + *owner + ")" : "") +
                   ": an endpoint is a pod or a host, never a Service address, which would send traffic back to "
                   "the Service");
  }
  if (pod_with(c, ip)) return;
  const std::string* owner = book.owner(ip);
  if (!owner)
    r.warn(at, "endpoint address " + ip.str() +
                   " is no pod's and no host's in this case: nothing answers the "
                   "traffic the rules send there");
  else
    r.warn(at, "endpoint address " + ip.str() + " belongs to " + *owner +
                   ", not to a pod: kpath runs no server "
                   "there (only pods listen), so connections to it are refused");
}

// targetRef {kind: Pod, name}: the pod must exist and own the addresses.
std::string read_target_ref(const Reader& r, const YAML::Node& n, const Endpoint& e, const Cluster& c) {
  MapReader tr(r, n, "targetRef", {"kind", "name", "namespace"});
  if (tr.has("kind")) choice(r, tr.need("kind"), "targetRef 'kind'", {"Pod"});
  std::string target = text(r, tr.need("name"), "targetRef 'name'");
  if (tr.has("namespace")) text(r, tr.need("namespace"), "targetRef 'namespace'");
  const Pod* pod = c.pod(target);
  if (!pod)
    r.fail(tr.need("name"), "targetRef names unknown pod '" + target +
                                "' (an endpoint's targetRef names a pod "
                                "of the case)");
  for (const auto& ip : e.addresses)
    if (std::find(pod->ips.begin(), pod->ips.end(), ip) == pod->ips.end()) {
      const Pod* owner = pod_with(c, ip);
      r.fail(tr.need("name"), "targetRef names pod '" + target + "', but the endpoint address " + ip.str() +
                                  (owner ? " belongs to pod '" + owner->name + "'" : " is not one of its addresses"));
    }
  return target;
}

// hints: {forZones: [{name: ZONE}, ...]}. forNodes (kube-proxy 1.33+'s
// PreferSameNode) is not modelled: kpath follows kube-proxy 1.31-1.32.
std::vector<std::string> read_zone_hints(const Reader& r, const YAML::Node& n) {
  MapReader m(r, n, "endpoint 'hints'", {"forZones"});
  std::vector<std::string> out;
  for (const auto& zn : list(r, m.need("forZones"), "'forZones'")) {
    MapReader z(r, zn, "'forZones' entry", {"name"});
    std::string zone = text(r, z.need("name"), "zone 'name'");
    if (zone.empty()) r.fail(z.need("name"), "zone 'name' is empty");
    if (std::find(out.begin(), out.end(), zone) != out.end()) r.fail(zn, "'forZones' lists zone '" + zone + "' twice");
    out.push_back(zone);
  }
  return out;
}

Endpoint read_endpoint(const Reader& r, const YAML::Node& n, int family, const Cluster& c, const AddressBook& book) {
  MapReader m(r, n, "endpoint", {"addresses", "conditions", "nodeName", "zone", "targetRef", "hostname", "hints"});
  Endpoint e;
  auto addrs = list(r, m.need("addresses"), "'addresses'");
  if (addrs.empty()) r.fail(m.need("addresses"), "'addresses' is empty");
  for (const auto& an : addrs) {
    Ip ip = address(r, an, "endpoint address");
    if (ip.family() != family) r.fail(an, "endpoint address " + ip.str() + " does not match the slice's addressType");
    check_safe(r, an, ip, "endpoint address");
    check_endpoint_address(r, an, ip, c, book);
    e.addresses.push_back(ip);
  }
  if (m.has("conditions")) {
    MapReader cm(r, m.need("conditions"), "endpoint conditions", {"ready", "serving", "terminating"});
    // Kubernetes reads an absent ready as true and an absent serving as ready.
    if (cm.has("ready")) e.ready = boolean(r, cm.need("ready"), "'ready'");
    e.serving = cm.has("serving") ? boolean(r, cm.need("serving"), "'serving'") : e.ready;
    if (cm.has("terminating")) e.terminating = boolean(r, cm.need("terminating"), "'terminating'");
  }
  if (m.has("hostname")) text(r, m.need("hostname"), "'hostname'");
  if (m.has("zone")) e.zone = text(r, m.need("zone"), "'zone'");
  if (m.has("hints")) e.zone_hints = read_zone_hints(r, m.need("hints"));
  if (m.has("targetRef")) e.pod_name = read_target_ref(r, m.need("targetRef"), e, c);
  else if (const Pod* p = pod_with(c, e.addresses[0])) e.pod_name = p->name;  // an address of a case pod names it
  const Pod* pod = c.pod(e.pod_name);
  if (m.has("nodeName")) {
    YAML::Node nn = m.need("nodeName");
    e.node_name = text(r, nn, "'nodeName'");
    if (!c.node(e.node_name)) r.fail(nn, "endpoint 'nodeName' names unknown node '" + e.node_name + "'");
    if (pod && pod->node != e.node_name)
      r.fail(nn, "endpoint 'nodeName' is '" + e.node_name + "', but its pod '" + pod->name + "' runs on node '" +
                     pod->node + "': kube-proxy would count it local on the wrong node");
  } else if (pod) {
    e.node_name = pod->node;
  }
  return e;
}

// kube-proxy pairs a slice port with the Service port of the same name and
// protocol; a slice port with no partner is ignored.
void check_slice_port(const Reader& r, const YAML::Node& at, const EndpointPort& ep, const Service& s) {
  std::vector<std::string> ports;
  for (const auto& sp : s.ports) {
    if (sp.name == ep.name && sp.protocol == ep.protocol) return;
    ports.push_back("'" + sp.name + "'/" + to_string(sp.protocol));
  }
  r.warn(at, "EndpointSlice port '" + ep.name + "'/" + to_string(ep.protocol) + " matches no port of Service '" +
                 s.key() + "' (by name and protocol: " + kpath::join(ports, ", ") +
                 "): kube-proxy ignores it, so the slice's endpoints serve no Service port through it");
}

void read_slice(const Reader& r, const MapReader& m, Cluster& c, const AddressBook& book) {
  EndpointSlice sl;
  Meta meta = read_metadata(r, m.need("metadata"), "EndpointSlice");
  sl.name = meta.name;
  sl.ns = meta.ns;
  sl.where = r.where(m.node());
  if (c.slice(sl.ns, sl.name)) r.fail(m.need("metadata"), "duplicate EndpointSlice '" + sl.ns + "/" + sl.name + "'");
  auto label = meta.labels.find(kServiceNameLabel);
  if (label == meta.labels.end())
    r.fail(m.need("metadata"),
           "EndpointSlice '" + sl.name + "' needs the label " + kServiceNameLabel + " naming its Service");
  sl.service = label->second;
  if (!c.service(sl.ns, sl.service))
    r.fail(value_of(meta.labels_node, kServiceNameLabel), "EndpointSlice '" + sl.name + "' names Service '" + sl.ns +
                                                              "/" + sl.service + "', which the case does not define");
  int family = choice(r, m.need("addressType"), "'addressType'", {"IPv4", "IPv6"}) == "IPv4" ? AF_INET : AF_INET6;
  sl.family = family;
  if (m.has("ports"))
    for (const auto& pn : list(r, m.need("ports"), "'ports'")) {
      MapReader pm(r, pn, "EndpointSlice port", {"name", "protocol", "port", "appProtocol"});
      EndpointPort ep;
      if (pm.has("name")) ep.name = name(r, pm.need("name"), "port 'name'");
      if (pm.has("protocol")) ep.protocol = protocol(r, pm.need("protocol"), "'protocol'");
      ep.port = port(r, pm.need("port"), "'port'");
      ep.where = r.where(pn);
      if (pm.has("appProtocol")) text(r, pm.need("appProtocol"), "'appProtocol'");
      check_slice_port(r, pn, ep, *c.service(sl.ns, sl.service));
      sl.ports.push_back(ep);
    }
  if (m.has("endpoints"))
    for (const auto& en : list(r, m.need("endpoints"), "'endpoints'"))
      sl.endpoints.push_back(read_endpoint(r, en, family, c, book));
  c.slices.push_back(std::move(sl));
}

// kind and apiVersion pick the schema, so they are read before the keys are checked.
YAML::Node required_field(const Reader& r, const YAML::Node& map, const std::string& key) {
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  r.fail(map, "missing required key '" + key + "' in object");
}

}  // namespace

void read_service_object(const Reader& r, const YAML::Node& on, Cluster& c, AddressBook& book) {
  MapReader m(r, on, "Service", {"apiVersion", "kind", "metadata", "spec", "status"});
  read_service(r, m, c, book);
}

void read_slice_object(const Reader& r, const YAML::Node& on, Cluster& c, const AddressBook& book) {
  MapReader m(r, on, "EndpointSlice", {"apiVersion", "kind", "metadata", "addressType", "ports", "endpoints"});
  read_slice(r, m, c, book);
}

void read_objects(const Reader& r, const YAML::Node& n, Cluster& c, AddressBook& book) {
  if (!n.IsDefined() || n.IsNull()) return;
  std::vector<MapReader> slices;  // read after every Service, whatever the order
  for (const auto& on : list(r, n, "'objects'")) {
    if (!on.IsMap()) r.fail(on, "an object must be a map, got " + describe(on));
    std::string kind = text(r, required_field(r, on, "kind"), "'kind'");
    std::string api = text(r, required_field(r, on, "apiVersion"), "'apiVersion'");
    if (kind == "Service" && api == "v1") {
      MapReader m(r, on, "Service", {"apiVersion", "kind", "metadata", "spec", "status"});
      read_service(r, m, c, book);
    } else if (kind == "EndpointSlice" && api == "discovery.k8s.io/v1") {
      slices.emplace_back(r, on, "EndpointSlice",
                          std::vector<std::string>{"apiVersion", "kind", "metadata", "addressType", "ports",
                                                   "endpoints"});
    } else {
      r.fail(on, "unsupported object " + api + " " + kind +
                     " (expected apiVersion v1 kind Service, or apiVersion "
                     "discovery.k8s.io/v1 kind EndpointSlice)");
    }
  }
  for (const auto& m : slices) read_slice(r, m, c, book);
}

}  // namespace harness::cases
