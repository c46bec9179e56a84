#include "harness/model/model.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include <sys/socket.h>

#include "base/strings.h"

namespace harness {

std::string to_string(Protocol p) {
  switch (p) {
    case Protocol::TCP: return "TCP";
    case Protocol::UDP: return "UDP";
    case Protocol::SCTP: return "SCTP";
  }
  return "?";
}

std::string lower(Protocol p) { return kpath::ascii_lower(to_string(p)); }

std::optional<Protocol> parse_protocol(const std::string& s) {
  std::string u = s;
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
  if (u == "TCP") return Protocol::TCP;
  if (u == "UDP") return Protocol::UDP;
  if (u == "SCTP") return Protocol::SCTP;
  return std::nullopt;
}

std::string Warning::str() const {
  std::string at = where.file;
  if (where.line > 0) at += ":" + std::to_string(where.line);
  if (where.column > 0) at += ":" + std::to_string(where.column);
  return at + ": warning: " + message;
}

std::chrono::milliseconds probe_timeout(Verdict want) {
  // A drop shows only as silence; an answer may wait for a SYN retransmit.
  return std::chrono::milliseconds(want == Verdict::Reachable || want == Verdict::Leaked ? 1500 : 400);
}

std::chrono::milliseconds affinity_hold(const Expectation& e) {
  return std::chrono::milliseconds(e.affinity_timeout * 1000 / 2);
}

std::chrono::milliseconds affinity_pause(const Expectation& e) {
  return std::chrono::milliseconds(e.affinity_timeout * 1000 + 1000);
}

std::chrono::milliseconds worst_case_duration(const Expectation& e) {
  std::chrono::milliseconds timeout = probe_timeout(e.result);
  for (const auto& [generator, verdict] : e.except) timeout = std::max(timeout, probe_timeout(verdict));
  if (e.probe == ProbeKind::OutOfWindow) return 3 * timeout * e.probes;
  if (e.affinity_expires) return e.probes * (2 * timeout + affinity_pause(e) + affinity_hold(e));
  long long rounds = e.source_port ? e.probes : (e.probes + kProbeConcurrency - 1) / kProbeConcurrency;
  return timeout * rounds;
}

template <typename T>
static const T* find_named(const std::vector<T>& v, const std::string& name) {
  auto it = std::find_if(v.begin(), v.end(), [&](const T& x) { return x.name == name; });
  return it == v.end() ? nullptr : &*it;
}

const Node* Cluster::node(const std::string& name) const { return find_named(nodes, name); }
const Pod* Cluster::pod(const std::string& name) const { return find_named(pods, name); }
const External* Cluster::external(const std::string& name) const { return find_named(externals, name); }

const Service* Cluster::service(const std::string& ns, const std::string& name) const {
  auto found = service_index_.find(ns + "/" + name, services.size(),
                                   [&](size_t i) { return services[i].ns + "/" + services[i].name; });
  return found.empty() ? nullptr : &services[found.front()];
}

const EndpointSlice* Cluster::slice(const std::string& ns, const std::string& name) const {
  auto found = slice_index_.find(ns + "/" + name, slices.size(),
                                 [&](size_t i) { return slices[i].ns + "/" + slices[i].name; });
  return found.empty() ? nullptr : &slices[found.front()];
}

const Service* Cluster::service_named(const std::string& ns_slash_name) const {
  auto slash = ns_slash_name.find('/');
  if (slash == std::string::npos) return nullptr;
  return service(ns_slash_name.substr(0, slash), ns_slash_name.substr(slash + 1));
}

std::vector<const EndpointSlice*> Cluster::slices_for(const Service& s) const {
  std::vector<const EndpointSlice*> out;
  for (size_t i : slices_by_service_.find(s.ns + "/" + s.name, slices.size(),
                                          [&](size_t i) { return slices[i].ns + "/" + slices[i].service; }))
    out.push_back(&slices[i]);
  return out;
}

std::string to_string(FlowKind k) {
  switch (k) {
    case FlowKind::ClusterIP: return "ClusterIP";
    case FlowKind::NodePort: return "NodePort";
    case FlowKind::External: return "external IP";
    case FlowKind::Direct: return "direct";
  }
  return "?";
}

std::string to_string(EndpointState s) {
  switch (s) {
    case EndpointState::Ready: return "ready";
    case EndpointState::NotReady: return "not-ready";
    case EndpointState::Terminating: return "terminating";
    case EndpointState::Deleted: return "deleted";
  }
  return "?";
}

std::string Target::str() const {
  if (!via_node.empty()) return via_node + "/localhost:" + std::to_string(port);
  std::string host = kind == Kind::Address && address.is_v6() ? "[" + name + "]" : name;
  return host + ":" + std::to_string(port);
}

namespace {

bool contains(const std::vector<Ip>& v, const Ip& ip) { return std::find(v.begin(), v.end(), ip) != v.end(); }

}  // namespace

namespace {

// The first of `ips` of `family` (0: the first of all); the loader checks one exists.
Ip first_of(const std::vector<Ip>& ips, int family) {
  for (const auto& ip : ips)
    if (family == 0 || ip.family() == family) return ip;
  return {};
}

// A cluster built in code may set only the primary CIDR: it counts as the list then.
std::optional<Cidr> cidr_of(const Cidr& primary, const std::vector<Cidr>& cidrs, int family) {
  for (const auto& c : cidrs)
    if (c.ip().family() == family) return c;
  if (cidrs.empty() && primary.ip().family() == family) return primary;
  return std::nullopt;
}

}  // namespace

std::string to_string(IpFamilyPolicy p) {
  switch (p) {
    case IpFamilyPolicy::SingleStack: return "SingleStack";
    case IpFamilyPolicy::PreferDualStack: return "PreferDualStack";
    case IpFamilyPolicy::RequireDualStack: return "RequireDualStack";
  }
  return "SingleStack";
}

std::string family_name(int family) { return family == AF_INET6 ? "IPv6" : "IPv4"; }

std::vector<int> Service::families() const {
  std::vector<int> out;
  for (const auto& ip : cluster_ips) out.push_back(ip.family());
  if (out.empty()) out.push_back(cluster_ip ? cluster_ip->family() : AF_INET);
  return out;
}

std::vector<Ip> External::sources(int n) const {
  std::vector<Ip> out;
  for (int i = 1; source_range && i <= n; ++i) out.push_back(source_range->nth(static_cast<uint64_t>(i)));
  return out;
}

std::string Node::zone() const {
  auto it = labels.find("topology.kubernetes.io/zone");
  return it == labels.end() ? "" : it->second;
}

std::optional<Ip> Service::cluster_ip_of(int family) const {
  if (cluster_ip && cluster_ip->family() == family) return cluster_ip;
  for (const auto& ip : cluster_ips)
    if (ip.family() == family) return ip;
  return std::nullopt;
}

std::optional<Cidr> ProxyOptions::cluster_cidr_of(int family) const {
  if (cluster_cidr && cluster_cidr->ip().family() == family) return cluster_cidr;
  if (cluster_cidr_v6 && cluster_cidr_v6->ip().family() == family) return cluster_cidr_v6;
  return std::nullopt;
}

std::optional<Cidr> Cluster::pod_cidr_of(int family) const { return cidr_of(pod_cidr, pod_cidrs, family); }
std::optional<Cidr> Cluster::service_cidr_of(int family) const { return cidr_of(service_cidr, service_cidrs, family); }

std::vector<int> Cluster::families() const {
  std::vector<int> out;
  for (int f : {AF_INET, AF_INET6})
    if (service_cidr_of(f)) out.push_back(f);
  return out;
}

Ip Cluster::address_of(const Target& t) const {
  switch (t.kind) {
    case Target::Kind::Node: return first_of(node(t.name)->ips, t.family);
    case Target::Kind::Pod: return first_of(pod(t.name)->ips, t.family);
    case Target::Kind::Service: {
      const Service* s = service_named(t.name);
      return t.family == 0 ? *s->cluster_ip : s->cluster_ip_of(t.family).value_or(Ip());
    }
    case Target::Kind::Address: return t.address;
  }
  return {};
}

std::string Cluster::node_of(const Source& s) const {
  switch (s.kind) {
    case Source::Kind::Node: return s.name;
    case Source::Kind::Pod: return pod(s.name)->node;
    case Source::Kind::External: return {};
  }
  return {};
}

std::optional<ServiceHit> Cluster::service_port_at(const Ip& ip, uint16_t port, Protocol protocol,
                                                   const std::string& source_node) const {
  const Node* receiver = nullptr;
  for (const auto& n : nodes)
    if (contains(n.ips, ip)) receiver = &n;
  if (!receiver && ip.is_loopback()) receiver = node(source_node);
  for (const auto& svc : services)
    for (const auto& sp : svc.ports) {
      if (sp.protocol != protocol) continue;
      const bool cluster_ip = (svc.cluster_ip && *svc.cluster_ip == ip) || contains(svc.cluster_ips, ip);
      if (sp.port == port && cluster_ip) return ServiceHit{&svc, &sp, FlowKind::ClusterIP, {}};
      if (sp.port == port && (contains(svc.external_ips, ip) || contains(svc.load_balancer_ips, ip)))
        return ServiceHit{&svc, &sp, FlowKind::External, nodes.empty() ? "" : nodes.front().name};
      if (sp.node_port != 0 && sp.node_port == port && receiver)
        return ServiceHit{&svc, &sp, FlowKind::NodePort, receiver->name};
    }
  return std::nullopt;
}

std::string to_string(FrontDoor d) {
  switch (d) {
    case FrontDoor::ClusterIP: return "clusterIP";
    case FrontDoor::NodePort: return "nodePort";
    case FrontDoor::ExternalIP: return "externalIP";
    case FrontDoor::LoadBalancerIP: return "loadBalancerIP";
    case FrontDoor::ClusterIPUndefinedPort: return "clusterIPUndefinedPort";
  }
  return "?";
}

namespace {

bool swept(const Service& svc, const Sweep& s, const std::optional<std::regex>& names) {
  if (!s.ns.empty() && svc.ns != s.ns) return false;
  return !names || std::regex_match(svc.name, *names);
}

// The first port above the Service's highest one that none of its ports
// defines, for any protocol (wrapping around to 1).
uint16_t undefined_port(const Service& svc) {
  auto defined = [&](int p) {
    return std::any_of(svc.ports.begin(), svc.ports.end(), [&](const ServicePort& sp) { return sp.port == p; });
  };
  int highest = 0;
  for (const auto& sp : svc.ports) highest = std::max<int>(highest, sp.port);
  for (int i = 1; i <= 65535; ++i) {
    int p = (highest + i - 1) % 65535 + 1;
    if (!defined(p)) return static_cast<uint16_t>(p);
  }
  return 0;  // every port defined: not a Service the API server accepts
}

// One undefined-port door per protocol: at the Service's first port of it.
bool first_of_its_protocol(const Service& svc, const ServicePort& sp) {
  for (const auto& other : svc.ports)
    if (other.protocol == sp.protocol) return &other == &sp;
  return false;
}

// The doors of one Service port, in the order the sweep lists them.
void add_doors(const Cluster& c, const Service& svc, const ServicePort& sp, FrontDoor door,
               std::vector<DoorTarget>& out) {
  auto add = [&](const Ip& ip, uint16_t port, const std::string& via) {
    out.push_back(DoorTarget{&svc, &sp, door, ip, port, via});
  };
  const std::string first = c.nodes.empty() ? "" : c.nodes.front().name;
  switch (door) {
    case FrontDoor::ClusterIP:
      if (svc.cluster_ip) add(*svc.cluster_ip, sp.port, "");
      break;
    case FrontDoor::NodePort:
      if (sp.node_port)
        for (const auto& n : c.nodes) add(n.ips.front(), sp.node_port, n.name);
      break;
    case FrontDoor::ExternalIP:
      for (const auto& ip : svc.external_ips) add(ip, sp.port, first);
      break;
    case FrontDoor::LoadBalancerIP:
      for (const auto& ip : svc.load_balancer_ips) add(ip, sp.port, first);
      break;
    case FrontDoor::ClusterIPUndefinedPort:
      if (svc.cluster_ip && first_of_its_protocol(svc, sp)) add(*svc.cluster_ip, undefined_port(svc), "");
      break;
  }
}

}  // namespace

std::vector<DoorTarget> sweep_doors(const Cluster& c, const Sweep& s) {
  std::optional<std::regex> names;
  if (!s.name_pattern.empty()) names.emplace(s.name_pattern, std::regex::ECMAScript);
  std::vector<DoorTarget> out;
  for (const auto& svc : c.services) {
    if (!swept(svc, s, names)) continue;
    for (const auto& sp : svc.ports)
      for (FrontDoor d : s.doors) add_doors(c, svc, sp, d, out);
  }
  return out;
}

std::string describe(const DoorTarget& d) {
  std::string host = d.address.is_v6() ? "[" + d.address.str() + "]" : d.address.str();
  std::string where = d.door == FrontDoor::NodePort ? " on " + d.via_node : "";
  return to_string(d.door) + " " + host + ":" + std::to_string(d.dport) + "/" + to_string(d.port->protocol) + where +
         " of " + d.service->key() + (d.port->name.empty() ? "" : ":" + d.port->name);
}

}  // namespace harness
