#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include <sys/socket.h>

#include "base/strings.h"
#include "harness/cases/case_loader.h"
#include "harness/cases/sections.h"

namespace harness::cases {

namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// "52 min 5 s", "45 s"
std::string duration_text(std::chrono::milliseconds d) {
  long long s = (d.count() + 999) / 1000;
  if (s < 60) return std::to_string(s) + " s";
  auto part = [](long long n, const char* unit) { return n ? " " + std::to_string(n) + " " + unit : std::string(); };
  if (s < 3600) return (std::to_string(s / 60) + " min" + part(s % 60, "s"));
  return std::to_string(s / 3600) + " h" + part(s % 3600 / 60, "min");
}

// The smallest falseFailureRate: 1 - 1e-15 is still below 1 in a double.
constexpr double kMinFalseFailureRate = 1e-15;

Verdict verdict(const Reader& r, const YAML::Node& n, const std::string& what) {
  std::string v = choice(r, n, what, {"reachable", "refused", "dropped", "leaked"});
  return v == "reachable" ? Verdict::Reachable
         : v == "refused" ? Verdict::Refused
         : v == "leaked"  ? Verdict::Leaked
                          : Verdict::Dropped;
}

std::string addresses_text(const std::vector<Ip>& ips) {
  std::vector<std::string> out;
  for (const auto& ip : ips) out.push_back(ip.str());
  return kpath::join(out, ", ");
}

// from: an external, pod or node name, "<node>/localhost", or
// "<node>/<one of its addresses>" (a node sending from a secondary address).
Source read_from(const Reader& r, const YAML::Node& n, const Cluster& c) {
  std::string from = text(r, n, "'from'");
  auto slash = from.find('/');
  if (slash != std::string::npos) {
    const std::string name = from.substr(0, slash), rest = from.substr(slash + 1);
    const Node* node = c.node(name);
    if (!node) r.fail(n, "'from' " + describe(n) + " is not NODE/localhost or NODE/ADDRESS for a node of this case");
    if (rest == "localhost") return Source{Source::Kind::Node, name, true, std::nullopt};
    auto address = Ip::parse(rest);
    if (!address || std::find(node->ips.begin(), node->ips.end(), *address) == node->ips.end())
      r.fail(n, "'from' " + describe(n) + " is not NODE/localhost or NODE/ADDRESS: '" + rest + "' is not one of " +
                    name + "'s addresses (" + addresses_text(node->ips) + ")");
    return Source{Source::Kind::Node, name, false, *address};
  }
  if (c.node(from)) return Source{Source::Kind::Node, from};
  if (c.pod(from)) return Source{Source::Kind::Pod, from};
  if (c.external(from)) return Source{Source::Kind::External, from};
  r.fail(n, "'from' names unknown '" + from + "' (expected a node, pod or external name, or NODE/localhost)");
}

// The node whose NodePorts a loopback target reaches: the one `to:
// NODE/localhost` routes it through, else the sender's own.
std::string receiving_node(const Cluster& c, const Expectation& e) {
  return e.to.via_node.empty() ? c.node_of(e.from) : e.to.via_node;
}

// HOST:PORT, or [IPv6]:PORT.
std::pair<std::string, std::string> split_host_port(const Reader& r, const YAML::Node& n, const std::string& to) {
  if (!to.empty() && to[0] == '[') {
    auto close = to.find("]:");
    if (close == std::string::npos) r.fail(n, "'to' " + describe(n) + " must be [IPv6]:PORT");
    return {to.substr(1, close - 1), to.substr(close + 2)};
  }
  auto colon = to.rfind(':');
  if (colon == std::string::npos)
    r.fail(n, "'to' must be HOST:PORT (a node, an IP, or namespace/service), got " + describe(n));
  if (to.substr(0, colon).find(':') != std::string::npos)
    r.fail(n, "'to' " + describe(n) + ": write an IPv6 target as [ADDRESS]:PORT");
  return {to.substr(0, colon), to.substr(colon + 1)};
}

// to: HOST:PORT where HOST is a node or pod name, an IP ([v6]), or ns/svc.
// `to: NAMESPACE/SERVICE:PORT` names the Service's port, so the port must be
// one of the Service's; probing an undefined port is written with the address.
void check_service_port(const Reader& r, const YAML::Node& n, const Service& s, uint16_t port, Protocol protocol) {
  std::vector<std::string> ports;
  for (const auto& sp : s.ports) {
    if (sp.port == port && sp.protocol == protocol) return;
    ports.push_back(std::to_string(sp.port) + "/" + to_string(sp.protocol));
  }
  r.fail(n, "Service '" + s.key() + "' has no port " + std::to_string(port) + "/" + to_string(protocol) +
                " (its ports: " + kpath::join(ports, ", ") +
                "); to probe a port the Service does not define on purpose, write its ClusterIP: " +
                Target{Target::Kind::Address, s.cluster_ip->str(), *s.cluster_ip, port}.str());
}

// to: NODE/localhost:PORT from a pod or external client: 127.0.0.1 of that
// node, which the client routes through it (a node reaches its own as
// 127.0.0.1:PORT; a pod's traffic reaches only its own node).
Target loopback_via(const Reader& r, const YAML::Node& n, const std::string& host, const Source& from, const Cluster& c,
                    Target t) {
  const std::string node = host.substr(0, host.size() - std::string("/localhost").size());
  if (c.service_named(host))
    r.fail(n, "'to' " + describe(n) + " is ambiguous: node '" + node + "''s localhost and Service '" + host +
                  "'; probe the Service by its ClusterIP address");
  if (from.kind == Source::Kind::Node)
    r.fail(n, "'to' " + describe(n) + " from a node: a node reaches its own loopback as 127.0.0.1:" +
                  std::to_string(t.port) + ", and another node's only through the fabric it does not route 127/8 on");
  if (from.kind == Source::Kind::Pod && c.pod(from.name)->node != node)
    r.fail(n, "'to' " + describe(n) + " from pod '" + from.name + "' on node '" + c.pod(from.name)->node +
                  "': a pod's packets to 127.0.0.0/8 reach only its own node's loopback");
  auto v4 = [](const std::vector<Ip>& ips) {
    return std::any_of(ips.begin(), ips.end(), [](const Ip& ip) { return ip.is_v4(); });
  };
  if (!v4(c.node(node)->ips))
    r.fail(n, "'to' " + describe(n) + ": node '" + node + "' has no IPv4 address to route 127.0.0.1 through");
  if (!v4(from.kind == Source::Kind::Pod ? c.pod(from.name)->ips : c.external(from.name)->ips))
    r.fail(n, "'to' " + describe(n) + ": '" + from.name + "' has no IPv4 address to reach 127.0.0.1 from");
  t.kind = Target::Kind::Address;
  t.name = "127.0.0.1";
  t.address = Ip::from("127.0.0.1");
  t.via_node = node;
  return t;
}

Target read_to(const Reader& r, const YAML::Node& n, const Source& from, Protocol protocol, const Cluster& c) {
  std::string to = text(r, n, "'to'");
  auto [host, port_text] = split_host_port(r, n, to);
  int p = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || p < 1 || p > 65535)
    r.fail(n, "'to' port must be from 1 to 65535, got '" + port_text + "'");
  Target t;
  t.name = host;
  t.port = static_cast<uint16_t>(p);
  if (auto ip = Ip::parse(host)) {
    check_safe(r, n, *ip, "expectation target", true);
    if (ip->is_loopback() && from.kind != Source::Kind::Node)
      r.fail(n, "loopback target " + to +
                    " needs 'from' to be a node or NODE/localhost (from a pod or external client, write "
                    "NODE/localhost:PORT: that node's loopback)");
    t.kind = Target::Kind::Address;
    t.address = *ip;
    return t;
  }
  if (host.ends_with("/localhost") && c.node(host.substr(0, host.size() - 10)))
    return loopback_via(r, n, host, from, c, t);
  if (host.find('/') != std::string::npos) {
    const Service* s = c.service_named(host);
    if (!s) r.fail(n, "'to' names unknown Service '" + host + "'");
    if (!s->cluster_ip) r.fail(n, "'to' names headless Service '" + host + "', which has no ClusterIP");
    check_service_port(r, n, *s, t.port, protocol);
    t.kind = Target::Kind::Service;
    return t;
  }
  if (c.node(host)) t.kind = Target::Kind::Node;
  else if (c.pod(host)) t.kind = Target::Kind::Pod;
  else
    r.fail(n,
           "'to' names unknown host '" + host + "' (expected a node or pod name, an IP address, or namespace/service)");
  return t;
}

// Pods named in backends must be endpoints of what the target reaches.
void check_backend_pod(const Reader& r, const YAML::Node& at, const std::string& pod, const Expectation& e,
                       const Cluster& c) {
  if (!c.pod(pod)) r.fail(at, "backends name unknown pod '" + pod + "'");
  if (e.to.kind == Target::Kind::Pod) {
    if (pod != e.to.name) r.fail(at, "backends name pod '" + pod + "' but 'to' is pod '" + e.to.name + "'");
    return;
  }
  auto hit = c.service_port_at(c.address_of(e.to), e.to.port, e.protocol, receiving_node(c, e));
  if (!hit) return;  // a pinned ruleset may route what the case does not model
  for (const EndpointSlice* sl : c.slices_for(*hit->service))
    for (const auto& ep : sl->endpoints)
      if (ep.pod_name == pod) return;
  r.fail(at, "backends name pod '" + pod + "', which is not an endpoint of the Service at " + e.to.str());
}

// Weights are shares of their sum, which must be a finite number in which
// every weight still counts.
void check_weights(const Reader& r, const YAML::Node& n, const BackendExpectation& b) {
  double sum = 0;
  for (const auto& [pod, w] : b.weights) sum += w;
  if (!std::isfinite(sum))
    r.fail(n,
           "the 'backends' weights add up to more than the largest number (about 1.8e308): scale them down, "
           "only their ratios count");
  for (const auto& [pod, w] : b.weights)
    if (w / sum == 0 || w / sum + 1 == 1)  // below double precision next to the others
      r.fail(n, "the weight of '" + pod + "' is too small next to the others to count (" + number_text(w) + " of " +
                    number_text(sum) + "): give it a larger weight, or leave the pod out");
}

BackendExpectation read_backends(const Reader& r, const YAML::Node& n, const Expectation& e, const Cluster& c) {
  BackendExpectation b;
  if (n.IsScalar()) {
    std::string k = choice(r, n, "'backends'", {"any", "uniform", "sticky"});
    b.kind = k == "uniform"  ? BackendExpectation::Kind::Uniform
             : k == "sticky" ? BackendExpectation::Kind::Sticky
                             : BackendExpectation::Kind::Any;
    return b;
  }
  if (!n.IsMap())
    r.fail(n,
           "'backends' must be any, uniform, sticky, {POD: WEIGHT, ...} or {one-of: [POD, ...]}, got " + describe(n));
  if (n.size() == 1 && n.begin()->first.IsScalar() && n.begin()->first.Scalar() == "one-of") {
    b.kind = BackendExpectation::Kind::OneOf;
    auto pods = list(r, n.begin()->second, "'one-of'");
    if (pods.empty()) r.fail(n, "'one-of' is empty");
    for (const auto& pn : pods) {
      std::string pod = text(r, pn, "'one-of' entry");
      check_backend_pod(r, pn, pod, e, c);
      b.weights[pod] = 1;
    }
    return b;
  }
  b.kind = BackendExpectation::Kind::Weighted;
  if (n.size() == 0) r.fail(n, "'backends' weights are empty");
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string pod = text(r, it->first, "a pod in 'backends'");
    if (b.weights.count(pod)) r.fail(it->first, "pod '" + pod + "' appears twice in 'backends'");
    check_backend_pod(r, it->first, pod, e, c);
    double w = number(r, it->second, "the weight of '" + pod + "'");
    if (w <= 0) r.fail(it->second, "the weight of '" + pod + "' must be above 0, got " + describe(it->second));
    b.weights[pod] = w;
  }
  check_weights(r, n, b);
  return b;
}

// except keys: a kube-proxy mode (iptables, nftables), a built-in's name,
// ruleset:FILE or exec:COMMAND (generators given with --generator), or the
// name of a generator the case lists.
void check_except_key(const Reader& r, const YAML::Node& at, const std::string& key,
                      const std::vector<GeneratorSpec>& listed) {
  if (key == to_string(ProxyMode::Iptables) || key == to_string(ProxyMode::Nftables)) return;
  if (key.starts_with("ruleset:") || key.starts_with("exec:")) return;
  for (const auto& g : builtin_generators())
    if (g.name() == key) return;
  for (const auto& g : listed)
    if (g.name() == key) return;
  r.fail(at, "unknown generator '" + key +
                 "' in 'except' (expected a mode: iptables or nftables, "
                 "kube-iptables, kube-nftables, ruleset:FILE, exec:COMMAND, or a generator the case lists)");
}

// {POD: ready | not-ready | terminating | deleted}: endpoint changes a proxy
// must follow before (or while) the probes run.
std::vector<EndpointChange> read_endpoint_changes(const Reader& r, const YAML::Node& n, const Cluster& c,
                                                  const std::string& what) {
  if (!n.IsMap() || n.size() == 0)
    r.fail(n, what + " must be a map {POD: ready|not-ready|terminating|deleted}, got " + describe(n));
  std::vector<EndpointChange> out;
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string pod = text(r, it->first, "a pod in " + what);
    if (!c.pod(pod)) r.fail(it->first, "unknown pod '" + pod + "' in " + what);
    std::string state = choice(r, it->second, "the state of '" + pod + "'",
                               {"ready", "not-ready", "terminating", "deleted"});
    out.push_back({pod, state == "ready"         ? EndpointState::Ready
                        : state == "not-ready"   ? EndpointState::NotReady
                        : state == "terminating" ? EndpointState::Terminating
                                                 : EndpointState::Deleted});
  }
  return out;
}

// Expectations that could never pass as written.
void check_consistent(const Reader& r, const MapReader& m, const Expectation& e) {
  if (e.result == Verdict::Reachable) return;
  if (e.backends.kind != BackendExpectation::Kind::Any)
    r.fail(m.mark_of("backends"),
           "expectation '" + e.name + "' expects no connection (result refused/dropped) but names backends");
  if (e.source != SourceExpectation::Any)
    r.fail(m.mark_of("source"),
           "expectation '" + e.name + "' expects no connection (result refused/dropped) but names a source");
}

// What the case's own Services say about the flow, where the loader can
// know the expectation cannot hold.
void check_against_services(const Reader& r, const MapReader& m, const Expectation& e, const Cluster& c) {
  auto hit = c.service_port_at(c.address_of(e.to), e.to.port, e.protocol, receiving_node(c, e));
  if (!hit) {
    if (e.result != Verdict::Reachable || e.to.kind != Target::Kind::Node) return;
    Protocol other = e.protocol == Protocol::TCP ? Protocol::UDP : Protocol::TCP;
    for (Protocol p : {other, Protocol::SCTP})
      if (auto elsewhere = c.service_port_at(c.address_of(e.to), e.to.port, p, receiving_node(c, e));
          elsewhere && p != e.protocol && elsewhere->kind == FlowKind::NodePort)
        r.fail(m.mark_of("to"), "expectation '" + e.name + "' expects " + to_string(e.protocol) + " at " + e.to.str() +
                                    " to be reachable, but nodePort " + std::to_string(e.to.port) + " is " +
                                    to_string(p) + " only (Service '" + elsewhere->service->key() +
                                    "'): nothing answers " + to_string(e.protocol) + " there");
    return;
  }
  if (e.backends.kind == BackendExpectation::Kind::Sticky && !hit->service->session_affinity_client_ip)
    r.fail(m.mark_of("backends"), "'backends: sticky' needs Service '" + hit->service->key() +
                                      "' to have sessionAffinity: ClientIP (it has None, so kube-proxy spreads "
                                      "connections over its endpoints)");
  if (e.source == SourceExpectation::Client && c.proxy.masquerade_all && hit->kind == FlowKind::ClusterIP)
    r.fail(m.mark_of("source"),
           "'source: client' cannot hold with proxy masqueradeAll: true, which masquerades "
           "all ClusterIP traffic (the backend sees the node's address)");
}

// Every probe waiting out its timeout must fit in kMaxExpectationSeconds.
void check_budget(const Reader& r, const MapReader& m, const Expectation& e) {
  const std::chrono::milliseconds limit = std::chrono::seconds(kMaxExpectationSeconds);
  const std::chrono::milliseconds worst = worst_case_duration(e);
  if (worst <= limit) return;
  Expectation one = e;
  one.probes = 1;
  const std::chrono::milliseconds round = worst_case_duration(one);
  const bool oow = e.probe == ProbeKind::OutOfWindow;
  const bool parallel = !oow && e.source_port == 0;
  const long long allowed = limit / round * (parallel ? kProbeConcurrency : 1);
  std::string how = oow        ? "one at a time, each waiting up to three timeouts of "
                    : parallel ? std::to_string(kProbeConcurrency) + " at a time, each waiting up to "
                               : "one at a time (sourcePort), each waiting up to ";
  r.fail(m.mark_of("probes"),
         "expectation '" + e.name + "' may take up to " + duration_text(worst) + " (" + std::to_string(e.probes) +
             " probes, " + how + std::to_string((oow ? round / 3 : round).count()) + " ms); the limit is " +
             duration_text(limit) + " per expectation (a loader limit, see docs/case-format.md): use at most " +
             std::to_string(allowed) + " probes");
}

// `sources: N`: the probes leave from N addresses of the external client's
// sourceRange in turn, each address a client of its own.
void read_sources(const Reader& r, const MapReader& m, Expectation& e, const Cluster& c) {
  YAML::Node n = m.need("sources");
  const External* ext = e.from.kind == Source::Kind::External ? c.external(e.from.name) : nullptr;
  if (!ext || !ext->source_range)
    r.fail(n, "'sources' needs 'from' to be an external client with a sourceRange (" + e.from.str() + " has none)");
  const int family = c.address_of(e.to).family();
  if (ext->source_range->ip().family() != family)
    r.fail(n, "'sources' comes from external '" + ext->name + "''s sourceRange " + ext->source_range->str() +
                  ", which is not of the target's family (" + c.address_of(e.to).str() + ")");
  const int hosts = (1 << (ext->source_range->ip().bits() - ext->source_range->prefix_len())) - 2;
  e.sources = static_cast<int>(integer(r, n, "'sources'", 2, hosts));
  if (e.probes < e.sources)
    r.fail(n, "'sources: " + std::to_string(e.sources) + "' needs at least as many probes (one per address), got " +
                  std::to_string(e.probes));
  if (e.source_port != 0 || e.probe == ProbeKind::OutOfWindow || e.affinity_expires)
    r.fail(n,
           "'sources' spreads probes over many clients: it does not go with sourcePort, probe: out-of-window or "
           "affinity: expires");
}

// droppedAt: output | path. Only a datagram's send fails at once when the
// sender's own netfilter drops it; a TCP SYN dropped there is retransmitted
// silently, so it looks like a drop on the path.
void read_dropped_at(const Reader& r, const MapReader& m, Expectation& e) {
  YAML::Node n = m.need("droppedAt");
  e.dropped_at = choice(r, n, "'droppedAt'", {"output", "path"}) == "output" ? DroppedAt::Output : DroppedAt::Path;
  bool dropped = e.result == Verdict::Dropped;
  for (const auto& [g, v] : e.except) dropped = dropped || v == Verdict::Dropped;
  if (!dropped) r.fail(n, "'droppedAt' needs result dropped (or an 'except' entry dropped)");
  if (e.dropped_at == DroppedAt::Output && e.protocol != Protocol::UDP)
    r.fail(n, "'droppedAt: output' needs protocol UDP: a " + to_string(e.protocol) +
                  " connection whose first packet the sender's own output path drops is retried silently, so it "
                  "times out like a drop on the path");
}

// refusedAt: a node of the cluster, for a refused expectation. A TCP RST
// carries no sender a probe can read, so only ICMP errors can say where.
void read_refused_at(const Reader& r, const MapReader& m, Expectation& e, const Cluster& c) {
  YAML::Node n = m.need("refusedAt");
  e.refused_at = text(r, n, "'refusedAt'");
  if (!c.node(e.refused_at)) r.fail(n, "'refusedAt' names no node of the cluster: '" + e.refused_at + "'");
  bool refused = e.result == Verdict::Refused;
  for (const auto& [g, v] : e.except) refused = refused || v == Verdict::Refused;
  if (!refused) r.fail(n, "'refusedAt' needs result refused (or an 'except' entry refused)");
  if (e.refused_by == RefusedBy::Stack)
    r.fail(n,
           "'refusedAt' needs ICMP errors, whose sender a probe reads; refusedBy: stack wants a TCP RST, which "
           "carries none");
}

// Who must refuse, the HTTP status, source-port randomisation and affinity
// expiry: what an expectation asserts beyond its verdict.
void read_observations(const Reader& r, const MapReader& m, Expectation& e, const Cluster& c) {
  if (m.has("refusedBy")) {
    YAML::Node n = m.need("refusedBy");
    e.refused_by = choice(r, n, "'refusedBy'", {"rule", "stack"}) == "rule" ? RefusedBy::Rule : RefusedBy::Stack;
    bool refused = e.result == Verdict::Refused;
    for (const auto& [g, v] : e.except) refused = refused || v == Verdict::Refused;
    if (!refused) r.fail(n, "'refusedBy' needs result refused (or an 'except' entry refused)");
    if (e.protocol != Protocol::TCP)
      r.fail(n, "'refusedBy' needs protocol TCP: a REJECT rule and a " + to_string(e.protocol) +
                    " stack with nothing listening send the same ICMP port-unreachable");
  }
  if (m.has("refusedAt")) read_refused_at(r, m, e, c);
  if (m.has("droppedAt")) read_dropped_at(r, m, e);
  if (m.has("httpStatus")) {
    YAML::Node n = m.need("httpStatus");
    e.http_status = static_cast<int>(integer(r, n, "'httpStatus'", 100, 599));
    if (e.protocol != Protocol::TCP || e.result != Verdict::Reachable)
      r.fail(n, "'httpStatus' needs a reachable TCP expectation (it sends an HTTP GET)");
    if (e.backends.kind != BackendExpectation::Kind::Any || e.source != SourceExpectation::Any)
      r.fail(n,
             "'httpStatus' probes speak HTTP, whose answers do not say which backend or source: give no "
             "backends or source");
  }
  if (m.has("sourcePorts")) {
    choice(r, m.need("sourcePorts"), "'sourcePorts'", {"random"});
    e.random_source_ports = true;
    if (e.result != Verdict::Reachable) r.fail(m.mark_of("sourcePorts"), "'sourcePorts' needs a reachable expectation");
  }
  if (m.has("affinity")) {
    YAML::Node n = m.need("affinity");
    choice(r, n, "'affinity'", {"expires"});
    auto hit = c.service_port_at(c.address_of(e.to), e.to.port, e.protocol, receiving_node(c, e));
    if (!hit || !hit->service->session_affinity_client_ip)
      r.fail(n, "'affinity: expires' needs a target that reaches a Service with sessionAffinity: ClientIP");
    if (e.source_port != 0 || !e.during.empty() || e.result != Verdict::Reachable)
      r.fail(n,
             "'affinity: expires' sends its own paced pairs of probes: give no sourcePort or during, and "
             "expect reachable");
    if (e.backends.kind != BackendExpectation::Kind::Any)
      r.fail(m.mark_of("backends"), "'affinity: expires' judges its pairs itself: give no backends");
    e.affinity_expires = true;
    e.affinity_timeout = hit->service->session_affinity_timeout;
    if (!m.has("probes")) e.probes = 8;
  }
}

// The addresses a source sends from or a named target has.
const std::vector<Ip>* addresses_of(const Cluster& c, Source::Kind kind, const std::string& name) {
  switch (kind) {
    case Source::Kind::Node: return &c.node(name)->ips;
    case Source::Kind::Pod: return &c.pod(name)->ips;
    case Source::Kind::External: return &c.external(name)->ips;
  }
  return nullptr;
}

bool has_family(const std::vector<Ip>& ips, int family) {
  return std::any_of(ips.begin(), ips.end(), [&](const Ip& ip) { return ip.family() == family; });
}

// `family: IPv4|IPv6` picks the address of a node, pod or Service target
// with both; then the sender needs an address of the family it probes.
void read_family(const Reader& r, const MapReader& m, Expectation& e, const Cluster& c) {
  if (m.has("family")) {
    YAML::Node fn = m.need("family");
    int family = choice(r, fn, "'family'", {"IPv4", "IPv6"}) == "IPv4" ? AF_INET : AF_INET6;
    const char* name = family == AF_INET ? "IPv4" : "IPv6";
    bool has = false;
    switch (e.to.kind) {
      case Target::Kind::Address:
        r.fail(fn, "'family' picks the address of a node, pod or Service target; 'to' " + e.to.str() +
                       " is an address already");
      case Target::Kind::Node: has = has_family(c.node(e.to.name)->ips, family); break;
      case Target::Kind::Pod: has = has_family(c.pod(e.to.name)->ips, family); break;
      case Target::Kind::Service: has = c.service_named(e.to.name)->cluster_ip_of(family).has_value(); break;
    }
    if (!has) r.fail(fn, "'to' " + e.to.str() + " has no " + name + " address");
    e.to.family = family;
  }
  const Ip target = c.address_of(e.to);
  if (e.from.localhost && target.is_v6())
    r.fail(m.need("from"), "'from' " + e.from.str() + " sends from 127.0.0.1, which cannot reach IPv6 " + target.str() +
                               " (kube-proxy has no localhost NodePorts for IPv6)");
  if (e.from.address && e.from.address->family() != target.family())
    r.fail(m.need("from"), "'from' " + e.from.str() + " sends from an " + (e.from.address->is_v6() ? "IPv6" : "IPv4") +
                               " address, which cannot reach " + target.str());
  if (!target.is_loopback() && !has_family(*addresses_of(c, e.from.kind, e.from.name), target.family()))
    r.fail(m.need("from"), "'from' " + e.from.str() + " has no " + (target.is_v6() ? "IPv6" : "IPv4") +
                               " address to reach " + target.str() + " from");
}

Expectation read_expectation(const Reader& r, const YAML::Node& n, const Cluster& c,
                             const std::vector<GeneratorSpec>& generators) {
  MapReader m(r, n, "expectation", {"name",     "from",    "to",        "protocol",         "probes",      "result",
                                    "backends", "source",  "except",    "falseFailureRate", "sourcePort",  "before",
                                    "during",   "probe",   "refusedBy", "httpStatus",       "sourcePorts", "affinity",
                                    "family",   "sources", "droppedAt", "refusedAt"});
  Expectation e;
  e.where = r.where(n);
  e.from = read_from(r, m.need("from"), c);
  if (m.has("protocol")) e.protocol = protocol(r, m.need("protocol"), "'protocol'");
  e.to = read_to(r, m.need("to"), e.from, e.protocol, c);
  read_family(r, m, e, c);
  e.name = m.has("name") ? text(r, m.need("name"), "expectation 'name'")
                         : e.from.str() + " -> " + e.to.str() + " " + to_string(e.protocol);
  if (m.has("result")) e.result = verdict(r, m.need("result"), "'result'");
  e.probes = m.has("probes")                  ? static_cast<int>(integer(r, m.need("probes"), "'probes'", 1, 1000000))
             : e.result == Verdict::Reachable ? 200
                                              : 20;
  if (m.has("backends")) e.backends = read_backends(r, m.need("backends"), e, c);
  if (m.has("source")) e.source = read_source_expectation(r, m.need("source"));
  if (m.has("except")) {
    YAML::Node ex = m.need("except");
    if (!ex.IsMap()) r.fail(ex, "'except' must be a map {GENERATOR: RESULT}, got " + describe(ex));
    for (auto it = ex.begin(); it != ex.end(); ++it) {
      std::string g = text(r, it->first, "a generator in 'except'");
      check_except_key(r, it->first, g, generators);
      if (e.except.count(g)) r.fail(it->first, "generator '" + g + "' appears twice in 'except'");
      e.except[g] = verdict(r, it->second, "the result for '" + g + "'");
      if (e.except[g] == e.result) r.fail(it->second, "'except' for '" + g + "' repeats the expectation's own result");
    }
  }
  if (m.has("falseFailureRate")) e.false_failure_rate = read_false_failure_rate(r, m.need("falseFailureRate"));
  if (m.has("probe")) {
    YAML::Node pn = m.need("probe");
    if (choice(r, pn, "'probe'", {"connect", "out-of-window"}) == "out-of-window") {
      e.probe = ProbeKind::OutOfWindow;
      if (e.protocol != Protocol::TCP || e.from.localhost)
        r.fail(pn, "'probe: out-of-window' needs a TCP flow from a pod, node or external client");
      if (!m.has("probes")) e.probes = 5;
      if (e.backends.kind != BackendExpectation::Kind::Any || e.source != SourceExpectation::Any)
        r.fail(pn,
               "'probe: out-of-window' checks only whether the segment reaches the client: give no backends or source");
    }
  }
  if (m.has("sourcePort")) e.source_port = port(r, m.need("sourcePort"), "'sourcePort'");
  if (m.has("before")) e.before = read_endpoint_changes(r, m.need("before"), c, "'before'");
  if (m.has("during")) e.during = read_endpoint_changes(r, m.need("during"), c, "'during'");
  if (!e.during.empty() && e.source_port != 0)
    r.fail(m.mark_of("during"),
           "'during' needs probes running side by side, but 'sourcePort' sends them one at a time");
  read_observations(r, m, e, c);
  if (m.has("sources")) read_sources(r, m, e, c);
  check_consistent(r, m, e);
  check_against_services(r, m, e, c);
  check_budget(r, m, e);
  return e;
}

}  // namespace

std::vector<Expectation> read_expectations(const Reader& r, const YAML::Node& n, const Cluster& c,
                                           const std::vector<GeneratorSpec>& generators) {
  std::vector<Expectation> out;
  auto items = list(r, n, "'expect'");
  if (items.empty()) r.fail(n, "'expect' is empty: a case needs at least one expectation");
  std::map<std::string, int> names;
  for (const auto& en : items) {
    out.push_back(is_sweep(en) ? read_sweep(r, en, c, generators) : read_expectation(r, en, c, generators));
    auto [it, fresh] = names.emplace(out.back().name, r.where(en).line);
    if (!fresh)
      r.fail(en,
             "duplicate expectation name '" + out.back().name + "' (first at line " + std::to_string(it->second) + ")");
  }
  return out;
}

// The pieces a sweep expectation shares with the others (sweep_section.cc).
Source read_source(const Reader& r, const YAML::Node& n, const Cluster& c) { return read_from(r, n, c); }
Verdict read_verdict(const Reader& r, const YAML::Node& n, const std::string& what) { return verdict(r, n, what); }
void check_generator_key(const Reader& r, const YAML::Node& at, const std::string& key,
                         const std::vector<GeneratorSpec>& listed) {
  check_except_key(r, at, key, listed);
}
std::vector<EndpointChange> read_changes(const Reader& r, const YAML::Node& n, const Cluster& c,
                                         const std::string& what) {
  return read_endpoint_changes(r, n, c, what);
}

SourceExpectation read_source_expectation(const Reader& r, const YAML::Node& n) {
  std::string s = choice(r, n, "'source'", {"any", "node", "client"});
  return s == "node" ? SourceExpectation::Node : s == "client" ? SourceExpectation::Client : SourceExpectation::Any;
}

double read_false_failure_rate(const Reader& r, const YAML::Node& n) {
  double rate = number(r, n, "'falseFailureRate'");
  if (!(rate >= kMinFalseFailureRate && rate <= 0.01))
    r.fail(n, "'falseFailureRate' must be from 1e-15 to 0.01, got " + describe(n) +
                  " (below 1e-15, 1 - rate is 1 in double precision and the check is as good as off)");
  return rate;
}

}  // namespace harness::cases
