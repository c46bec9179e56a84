#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <sys/socket.h>

#include "harness/cases/sections.h"

namespace harness::cases {

namespace {

// "30000-32767"
std::pair<uint16_t, uint16_t> port_range(const Reader& r, const YAML::Node& n) {
  auto bad = [&] {
    r.fail(n,
           "'nodePortRange' must be FIRST-LAST with ports from 1 to 65535, such as "
           "30000-32767, got " +
               describe(n));
  };
  if (!n.IsScalar()) bad();
  const std::string& s = n.Scalar();
  auto dash = s.find('-');
  if (dash == std::string::npos) bad();
  int lo = 0, hi = 0;
  auto [p1, e1] = std::from_chars(s.data(), s.data() + dash, lo);
  auto [p2, e2] = std::from_chars(s.data() + dash + 1, s.data() + s.size(), hi);
  if (e1 != std::errc() || p1 != s.data() + dash || e2 != std::errc() || p2 != s.data() + s.size() || lo < 1 ||
      hi > 65535 || lo > hi)
    bad();
  return {static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)};
}

// `ip: X` or `ips: [X, Y]`, exactly one of them.
std::vector<std::pair<Ip, YAML::Node>> addresses_of(const Reader& r, const MapReader& m) {
  if (m.has("ip") == m.has("ips"))
    r.fail(m.node(), m.what() + (m.has("ip") ? " has both 'ip' and 'ips' (give one)" : " needs 'ip' or 'ips'"));
  std::vector<YAML::Node> nodes;
  if (m.has("ip")) nodes.push_back(m.need("ip"));
  else nodes = list(r, m.need("ips"), "'ips'");
  if (nodes.empty()) r.fail(m.key_mark("ips"), "'ips' in " + m.what() + " is empty");
  std::vector<std::pair<Ip, YAML::Node>> out;
  for (const auto& n : nodes) out.emplace_back(address(r, n, "'ip'"), n);
  return out;
}

void outside_cluster_cidrs(const Reader& r, const YAML::Node& at, const Ip& ip, const std::string& what,
                           const Cluster& c) {
  for (const auto& pc : c.pod_cidrs)
    if (pc.contains(ip)) r.fail(at, what + " address " + ip.str() + " is inside podCIDR " + pc.str());
  for (const auto& sc : c.service_cidrs)
    if (sc.contains(ip)) r.fail(at, what + " address " + ip.str() + " is inside serviceCIDR " + sc.str());
}

bool inside(const Cidr& outer, const Cidr& inner) {
  return inner.prefix_len() >= outer.prefix_len() && outer.contains(inner.ip());
}

// `podCIDR`/`serviceCIDR`: one CIDR, or a list of two, one per family (the
// first is the primary family), as kube-apiserver's dual-stack flags take them.
std::vector<Cidr> cidr_list(const Reader& r, const YAML::Node& n, const std::string& key) {
  std::vector<YAML::Node> nodes;
  if (n.IsSequence()) nodes = list(r, n, "'" + key + "'");
  else nodes.push_back(n);
  if (nodes.empty() || nodes.size() > 2)
    r.fail(n, "'" + key + "' must be one CIDR or a list of two (one IPv4, one IPv6), got " + describe(n));
  std::vector<Cidr> out;
  for (const auto& cn : nodes) out.push_back(cidr(r, cn, "'" + key + "'"));
  if (out.size() == 2 && out[0].ip().family() == out[1].ip().family())
    r.fail(nodes[1], "'" + key + "' lists two " + family_name(out[0].ip().family()) +
                         " CIDRs: a dual-stack cluster has one per family");
  return out;
}

// An address of a family the cluster does not run would get no rules and no routes.
void in_cluster_family(const Reader& r, const YAML::Node& at, const Ip& ip, const std::string& what, const Cluster& c) {
  if (!c.service_cidr_of(ip.family()))
    r.fail(at, what + " address " + ip.str() + " is " + family_name(ip.family()) + ", but serviceCIDR " +
                   c.service_cidr.str() + " has no " + family_name(ip.family()) +
                   " range (list one CIDR per family for a dual-stack cluster)");
}

// A pod has at most one address of each family (Kubernetes' podIPs); nodes
// and externals may have several (a node's second address for nodePortAddresses).
void one_per_family(const Reader& r, const std::vector<std::pair<Ip, YAML::Node>>& addrs, const std::string& what) {
  for (size_t i = 1; i < addrs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (addrs[i].first.family() == addrs[j].first.family())
        r.fail(addrs[i].second, what + " has two " + family_name(addrs[i].first.family()) + " addresses (" +
                                    addrs[j].first.str() + ", " + addrs[i].first.str() +
                                    "): give at most one per family");
}

// Every declared name is a from/to reference, so it must be unique across kinds.
class Names {
 public:
  void claim(const Reader& r, const YAML::Node& at, const std::string& name, const std::string& kind) {
    if (name == "fabric" || name == "sink")  // Topology's own namespaces; --keep pins all by name
      r.fail(at, "'" + name + "' is the name of kpath's own " + (name == "fabric" ? "bridge" : "upstream sink") +
                     " namespace (pinned as kpath-PID-RUN-" + name + " with --keep): give the " + kind +
                     " another name");
    auto [it, fresh] = seen_.emplace(name, std::make_pair(kind, r.where(at).line));
    if (!fresh)
      r.fail(at, "duplicate name '" + name + "': " + it->second.first + " at line " +
                     std::to_string(it->second.second) + " already has it");
  }

 private:
  std::map<std::string, std::pair<std::string, int>> seen_;
};

ListenPort read_listen(const Reader& r, const YAML::Node& n) {
  MapReader m(r, n, "listen port", {"port", "protocol", "name"});
  ListenPort lp;
  lp.port = port(r, m.need("port"), "'port'");
  if (m.has("protocol")) lp.protocol = protocol(r, m.need("protocol"), "'protocol'");
  if (m.has("name")) lp.name = name(r, m.need("name"), "'name'");
  return lp;
}

Pod read_pod(const Reader& r, const YAML::Node& n, const Node& node, const Cluster& c, AddressBook& book,
             Names& names) {
  MapReader m(r, n, "pod", {"name", "ip", "ips", "labels", "listen"});
  Pod p;
  p.name = name(r, m.need("name"), "pod 'name'");
  names.claim(r, m.need("name"), p.name, "pod");
  p.node = node.name;
  p.where = r.where(n);
  auto addrs = addresses_of(r, m);
  one_per_family(r, addrs, "pod '" + p.name + "'");
  for (const auto& [ip, at] : addrs) {
    check_safe(r, at, ip, "pod '" + p.name + "'");
    auto family_cidr = c.pod_cidr_of(ip.family());
    if (!family_cidr)
      r.fail(at, "pod '" + p.name + "' address " + ip.str() + " is " + family_name(ip.family()) + ", but podCIDR " +
                     c.pod_cidr.str() + " has no " + family_name(ip.family()) + " range");
    if (!family_cidr->contains(ip))
      r.fail(at, "pod '" + p.name + "' address " + ip.str() + " is outside podCIDR " + family_cidr->str());
    if (node.pod_cidr && node.pod_cidr->ip().family() == ip.family() && !node.pod_cidr->contains(ip))
      r.fail(at, "pod '" + p.name + "' address " + ip.str() + " is outside node '" + node.name + "' podCIDR " +
                     node.pod_cidr->str());
    book.claim(r, at, ip, "pod '" + p.name + "'");
    p.ips.push_back(ip);
  }
  p.labels = string_map(r, m.get("labels"), "'labels'");
  std::set<std::pair<Protocol, uint16_t>> ports;
  if (m.has("listen"))
    for (const auto& ln : list(r, m.need("listen"), "'listen'")) {
      ListenPort lp = read_listen(r, ln);
      if (!ports.insert({lp.protocol, lp.port}).second)
        r.fail(ln,
               "pod '" + p.name + "' listens on " + std::to_string(lp.port) + "/" + to_string(lp.protocol) + " twice");
      p.listen.push_back(lp);
    }
  return p;
}

void read_node(const Reader& r, const YAML::Node& n, Cluster& c, AddressBook& book, Names& names) {
  MapReader m(r, n, "node", {"name", "ip", "ips", "podCIDR", "pods", "forwardPolicy", "inputPolicy", "labels"});
  Node node;
  node.name = name(r, m.need("name"), "node 'name'");
  names.claim(r, m.need("name"), node.name, "node");
  node.where = r.where(n);
  auto addrs = addresses_of(r, m);
  for (const auto& [ip, at] : addrs) {
    check_safe(r, at, ip, "node '" + node.name + "'");
    in_cluster_family(r, at, ip, "node '" + node.name + "'", c);
    outside_cluster_cidrs(r, at, ip, "node '" + node.name + "'", c);
    book.claim(r, at, ip, "node '" + node.name + "'");
    node.ips.push_back(ip);
  }
  if (m.has("podCIDR")) {
    node.pod_cidr = cidr(r, m.need("podCIDR"), "node 'podCIDR'");
    auto cluster_cidr = c.pod_cidr_of(node.pod_cidr->ip().family());
    if (!cluster_cidr || !inside(*cluster_cidr, *node.pod_cidr))
      r.fail(m.need("podCIDR"), "node '" + node.name + "' podCIDR " + node.pod_cidr->str() +
                                    " is outside the cluster podCIDR " + c.pod_cidr.str());
    for (const auto& other : c.nodes)
      if (other.pod_cidr && (inside(*other.pod_cidr, *node.pod_cidr) || inside(*node.pod_cidr, *other.pod_cidr)))
        r.fail(m.need("podCIDR"), "node '" + node.name + "' podCIDR " + node.pod_cidr->str() + " overlaps node '" +
                                      other.name + "' podCIDR " + other.pod_cidr->str());
  }
  node.labels = string_map(r, m.get("labels"), "node 'labels'");
  if (m.has("forwardPolicy"))
    node.forward_policy_drop = choice(r, m.need("forwardPolicy"), "'forwardPolicy'", {"ACCEPT", "DROP"}) == "DROP";
  if (m.has("inputPolicy"))
    node.input_policy_drop = choice(r, m.need("inputPolicy"), "'inputPolicy'", {"ACCEPT", "DROP"}) == "DROP";
  if (m.has("pods"))
    for (const auto& pn : list(r, m.need("pods"), "'pods'")) c.pods.push_back(read_pod(r, pn, node, c, book, names));
  c.nodes.push_back(std::move(node));
}

// The most addresses a sourceRange may hold: each is one more client whose
// affinity entries and conntrack flows a case's probes create.
constexpr int kMaxSourceRangeHostBits = 12;

Cidr read_source_range(const Reader& r, const YAML::Node& n, const External& e, const Cluster& c, AddressBook& book) {
  const std::string what = "external '" + e.name + "'";
  Cidr range = cidr(r, n, "'sourceRange'");
  const int host_bits = range.ip().bits() - range.prefix_len();
  if (host_bits < 2 || host_bits > kMaxSourceRangeHostBits)
    r.fail(n, "'sourceRange' " + range.str() + " must hold 4 to " + std::to_string(1 << kMaxSourceRangeHostBits) +
                  " addresses (a prefix of /" + std::to_string(range.ip().bits() - kMaxSourceRangeHostBits) + " to /" +
                  std::to_string(range.ip().bits() - 2) + ")");
  // Every address of it is a client kpath may send from: all must be private.
  check_safe(r, n, range.ip(), what + " 'sourceRange'");
  check_safe(r, n, range.nth((uint64_t{1} << host_bits) - 1), what + " 'sourceRange'");
  if (std::none_of(e.ips.begin(), e.ips.end(), [&](const Ip& ip) { return ip.family() == range.ip().family(); }))
    r.fail(n, "'sourceRange' " + range.str() + " is " + family_name(range.ip().family()) + " but " + what +
                  " has no address of that family to route it through");
  for (const auto& cc : c.pod_cidrs)
    if (inside(cc, range) || inside(range, cc))
      r.fail(n, "'sourceRange' " + range.str() + " overlaps podCIDR " + cc.str());
  for (const auto& cc : c.service_cidrs)
    if (inside(cc, range) || inside(range, cc))
      r.fail(n, "'sourceRange' " + range.str() + " overlaps serviceCIDR " + cc.str());
  book.claim_range(r, n, range, what);
  return range;
}

void read_external(const Reader& r, const YAML::Node& n, Cluster& c, AddressBook& book, Names& names) {
  MapReader m(r, n, "external", {"name", "ip", "ips", "sourceRange"});
  External e;
  e.name = name(r, m.need("name"), "external 'name'");
  names.claim(r, m.need("name"), e.name, "external");
  e.where = r.where(n);
  auto addrs = addresses_of(r, m);
  for (const auto& [ip, at] : addrs) {
    check_safe(r, at, ip, "external '" + e.name + "'");
    in_cluster_family(r, at, ip, "external '" + e.name + "'", c);
    outside_cluster_cidrs(r, at, ip, "external '" + e.name + "'", c);
    book.claim(r, at, ip, "external '" + e.name + "'");
    e.ips.push_back(ip);
  }
  if (m.has("sourceRange")) e.source_range = read_source_range(r, m.need("sourceRange"), e, c, book);
  c.externals.push_back(std::move(e));
}

// detectLocalMode (kube-proxy's --detect-local-mode) and detectLocal
// {bridgeInterface, interfaceNamePrefix}, as in KubeProxyConfiguration.
void read_detect_local(const Reader& r, const MapReader& m, Cluster& c) {
  ProxyOptions& p = c.proxy;
  std::string mode = "ClusterCIDR";
  if (m.has("detectLocalMode"))
    mode = choice(r, m.need("detectLocalMode"), "'detectLocalMode'",
                  {"ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix"});
  std::map<std::string, std::string> detect = string_map(r, m.get("detectLocal"), "'detectLocal'");
  for (const auto& [key, value] : detect)
    if (key != "bridgeInterface" && key != "interfaceNamePrefix")
      r.fail(m.need("detectLocal"), "'detectLocal' takes bridgeInterface and interfaceNamePrefix, not '" + key + "'");
  auto need = [&](const std::string& key) {
    auto it = detect.find(key);
    if (it == detect.end() || it->second.empty())
      r.fail(m.need("detectLocalMode"), "detectLocalMode " + mode + " needs detectLocal." + key);
    const bool ifname = it->second.size() < 16 && std::all_of(it->second.begin(), it->second.end(), [](char ch) {
                          return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
                        });
    if (!ifname)
      r.fail(m.need("detectLocal"), "detectLocal." + key + " '" + it->second +
                                        "' is no interface name (at most 15 letters, digits, '-', '_', '.')");
    return it->second;
  };
  if (mode == "NodeCIDR") {
    p.detect_local_mode = DetectLocalMode::NodeCIDR;
    for (const auto& n : c.nodes)
      if (!n.pod_cidr)
        r.fail(m.need("detectLocalMode"),
               "detectLocalMode NodeCIDR needs every node's podCIDR; node '" + n.name + "' has none");
  } else if (mode == "BridgeInterface") {
    p.detect_local_mode = DetectLocalMode::BridgeInterface;
    p.detect_local_interface = need("bridgeInterface");
  } else if (mode == "InterfaceNamePrefix") {
    p.detect_local_mode = DetectLocalMode::InterfaceNamePrefix;
    p.detect_local_interface = need("interfaceNamePrefix");
  }
}

}  // namespace

void read_cluster(const Reader& r, const YAML::Node& n, Cluster& c, AddressBook& book) {
  MapReader m(r, n, "cluster", {"podCIDR", "serviceCIDR", "nodePortRange", "nodes", "externals"});
  c.pod_cidrs = cidr_list(r, m.need("podCIDR"), "podCIDR");
  c.service_cidrs = cidr_list(r, m.need("serviceCIDR"), "serviceCIDR");
  c.pod_cidr = c.pod_cidrs.front();
  c.service_cidr = c.service_cidrs.front();
  for (size_t i = 0; i < c.service_cidrs.size(); ++i) {
    const Cidr& sc = c.service_cidrs[i];
    auto pc = c.pod_cidr_of(sc.ip().family());
    if (!pc || i >= c.pod_cidrs.size() || c.pod_cidrs[i].ip().family() != sc.ip().family())
      r.fail(m.need("serviceCIDR"), "serviceCIDR and podCIDR must list the same families in the same order (" +
                                        family_name(sc.ip().family()) + " serviceCIDR " + sc.str() +
                                        " has no podCIDR in that place)");
    if (inside(*pc, sc) || inside(sc, *pc))
      r.fail(m.need("serviceCIDR"), "serviceCIDR " + sc.str() + " overlaps podCIDR " + pc->str());
  }
  if (c.pod_cidrs.size() != c.service_cidrs.size())
    r.fail(m.need("podCIDR"), "podCIDR lists " + std::to_string(c.pod_cidrs.size()) + " CIDR(s) but serviceCIDR " +
                                  std::to_string(c.service_cidrs.size()) + ": give both one per family");
  if (m.has("nodePortRange")) std::tie(c.node_port_min, c.node_port_max) = port_range(r, m.need("nodePortRange"));
  Names names;
  auto nodes = list(r, m.need("nodes"), "'nodes'");
  if (nodes.empty()) r.fail(m.need("nodes"), "'nodes' is empty: a case needs at least one node");
  for (const auto& nn : nodes) read_node(r, nn, c, book, names);
  if (m.has("externals"))
    for (const auto& en : list(r, m.need("externals"), "'externals'")) read_external(r, en, c, book, names);
}

void read_proxy(const Reader& r, const YAML::Node& n, Cluster& c) {
  ProxyOptions& p = c.proxy;
  // Each family's proxier detects local traffic by that family's podCIDR.
  p.cluster_cidr = c.pod_cidr_of(AF_INET);
  p.cluster_cidr_v6 = c.pod_cidr_of(AF_INET6);
  if (!n.IsDefined() || n.IsNull()) return;
  MapReader m(r, n, "proxy",
              {"clusterCIDR", "masqueradeAll", "nodePortAddresses", "localhostNodePorts", "randomFully",
               "masqueradeBit", "detectLocalMode", "detectLocal"});
  read_detect_local(r, m, c);
  if (m.has("clusterCIDR")) {
    YAML::Node v = m.need("clusterCIDR");
    p.cluster_cidr = p.cluster_cidr_v6 = std::nullopt;
    if (!v.IsScalar() || v.Scalar() != "none") {
      Cidr given = cidr(r, v, "'clusterCIDR' (or none)");
      (given.ip().is_v6() ? p.cluster_cidr_v6 : p.cluster_cidr) = given;
    }
  }
  if (m.has("masqueradeAll")) p.masquerade_all = boolean(r, m.need("masqueradeAll"), "'masqueradeAll'");
  if (m.has("nodePortAddresses")) {
    YAML::Node v = m.need("nodePortAddresses");
    if (v.IsScalar() && v.Scalar() == "primary") p.node_port_addresses_primary = true;
    else if (!v.IsSequence())
      r.fail(v, "'nodePortAddresses' must be a list of CIDRs or \"primary\", got " + describe(v));
    else
      for (const auto& cn : list(r, v, "'nodePortAddresses'"))
        p.node_port_addresses.push_back(cidr(r, cn, "'nodePortAddresses' entry"));
  }
  if (m.has("localhostNodePorts"))
    p.localhost_node_ports = boolean(r, m.need("localhostNodePorts"), "'localhostNodePorts'");
  if (m.has("randomFully")) p.random_fully = boolean(r, m.need("randomFully"), "'randomFully'");
  if (m.has("masqueradeBit"))
    p.masquerade_bit = static_cast<int>(integer(r, m.need("masqueradeBit"), "'masqueradeBit'", 0, 31));
}

}  // namespace harness::cases
