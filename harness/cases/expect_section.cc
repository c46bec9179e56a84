#include <algorithm>
#include <charconv>
#include <set>

#include "harness/cases/sections.h"

namespace harness::cases {

namespace {

Verdict verdict(const Reader& r, const YAML::Node& n, const std::string& what) {
  std::string v = choice(r, n, what, {"reachable", "refused", "dropped"});
  return v == "reachable" ? Verdict::Reachable : v == "refused" ? Verdict::Refused : Verdict::Dropped;
}

// from: an external, pod or node name, or "<node>/localhost".
Source read_from(const Reader& r, const YAML::Node& n, const Cluster& c) {
  std::string from = text(r, n, "'from'");
  auto slash = from.find('/');
  if (slash != std::string::npos) {
    std::string node = from.substr(0, slash);
    if (from.substr(slash + 1) != "localhost" || !c.node(node))
      r.fail(n, "'from' " + describe(n) + " is not NODE/localhost for a node of this case");
    return Source{Source::Kind::Node, node, true};
  }
  if (c.node(from)) return Source{Source::Kind::Node, from};
  if (c.pod(from)) return Source{Source::Kind::Pod, from};
  if (c.external(from)) return Source{Source::Kind::External, from};
  r.fail(n, "'from' names unknown '" + from + "' (expected a node, pod or external name, or NODE/localhost)");
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
Target read_to(const Reader& r, const YAML::Node& n, const Source& from, const Cluster& c) {
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
      r.fail(n, "loopback target " + to + " needs 'from' to be a node or NODE/localhost");
    t.kind = Target::Kind::Address;
    t.address = *ip;
    return t;
  }
  if (host.find('/') != std::string::npos) {
    const Service* s = c.service_named(host);
    if (!s) r.fail(n, "'to' names unknown Service '" + host + "'");
    if (!s->cluster_ip) r.fail(n, "'to' names headless Service '" + host + "', which has no ClusterIP");
    t.kind = Target::Kind::Service;
    return t;
  }
  if (c.node(host)) t.kind = Target::Kind::Node;
  else if (c.pod(host)) t.kind = Target::Kind::Pod;
  else
    r.fail(n, "'to' names unknown host '" + host +
                  "' (expected a node or pod name, an IP address, or namespace/service)");
  return t;
}

// Pods named in backends must be endpoints of what the target reaches.
void check_backend_pod(const Reader& r, const YAML::Node& at, const std::string& pod,
                       const Expectation& e, const Cluster& c) {
  if (!c.pod(pod)) r.fail(at, "backends name unknown pod '" + pod + "'");
  if (e.to.kind == Target::Kind::Pod) {
    if (pod != e.to.name) r.fail(at, "backends name pod '" + pod + "' but 'to' is pod '" + e.to.name + "'");
    return;
  }
  auto hit = c.service_port_at(c.address_of(e.to), e.to.port, e.protocol, c.node_of(e.from));
  if (!hit) return;  // a pinned ruleset may route what the case does not model
  for (const EndpointSlice* sl : c.slices_for(*hit->service))
    for (const auto& ep : sl->endpoints)
      if (ep.pod_name == pod) return;
  r.fail(at, "backends name pod '" + pod + "', which is not an endpoint of the Service at " + e.to.str());
}

BackendExpectation read_backends(const Reader& r, const YAML::Node& n, const Expectation& e,
                                 const Cluster& c) {
  BackendExpectation b;
  if (n.IsScalar()) {
    std::string k = choice(r, n, "'backends'", {"any", "uniform", "sticky"});
    b.kind = k == "uniform" ? BackendExpectation::Kind::Uniform
             : k == "sticky" ? BackendExpectation::Kind::Sticky : BackendExpectation::Kind::Any;
    return b;
  }
  if (!n.IsMap())
    r.fail(n, "'backends' must be any, uniform, sticky, {POD: WEIGHT, ...} or {one-of: [POD, ...]}, got " +
                  describe(n));
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
  r.fail(at, "unknown generator '" + key + "' in 'except' (expected a mode: iptables or nftables, "
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
    r.fail(m.mark_of("backends"), "expectation '" + e.name +
                                      "' expects no connection (result refused/dropped) but names backends");
  if (e.source != SourceExpectation::Any)
    r.fail(m.mark_of("source"), "expectation '" + e.name +
                                    "' expects no connection (result refused/dropped) but names a source");
}

Expectation read_expectation(const Reader& r, const YAML::Node& n, const Cluster& c,
                             const std::vector<GeneratorSpec>& generators) {
  MapReader m(r, n, "expectation", {"name", "from", "to", "protocol", "probes", "result", "backends",
                                    "source", "except", "falseFailureRate", "sourcePort", "before",
                                    "during", "probe"});
  Expectation e;
  e.where = r.where(n);
  e.from = read_from(r, m.need("from"), c);
  if (m.has("protocol")) e.protocol = protocol(r, m.need("protocol"), "'protocol'");
  e.to = read_to(r, m.need("to"), e.from, c);
  e.name = m.has("name") ? text(r, m.need("name"), "expectation 'name'")
                         : e.from.str() + " -> " + e.to.str() + " " + to_string(e.protocol);
  if (m.has("result")) e.result = verdict(r, m.need("result"), "'result'");
  e.probes = m.has("probes") ? static_cast<int>(integer(r, m.need("probes"), "'probes'", 1, 1000000))
             : e.result == Verdict::Reachable ? 200 : 20;
  if (m.has("backends")) e.backends = read_backends(r, m.need("backends"), e, c);
  if (m.has("source")) {
    std::string s = choice(r, m.need("source"), "'source'", {"any", "node", "client"});
    e.source = s == "node" ? SourceExpectation::Node
               : s == "client" ? SourceExpectation::Client : SourceExpectation::Any;
  }
  if (m.has("except")) {
    YAML::Node ex = m.need("except");
    if (!ex.IsMap()) r.fail(ex, "'except' must be a map {GENERATOR: RESULT}, got " + describe(ex));
    for (auto it = ex.begin(); it != ex.end(); ++it) {
      std::string g = text(r, it->first, "a generator in 'except'");
      check_except_key(r, it->first, g, generators);
      if (e.except.count(g)) r.fail(it->first, "generator '" + g + "' appears twice in 'except'");
      e.except[g] = verdict(r, it->second, "the result for '" + g + "'");
      if (e.except[g] == e.result)
        r.fail(it->second, "'except' for '" + g + "' repeats the expectation's own result");
    }
  }
  if (m.has("falseFailureRate")) {
    YAML::Node f = m.need("falseFailureRate");
    e.false_failure_rate = number(r, f, "'falseFailureRate'");
    if (!(e.false_failure_rate > 0 && e.false_failure_rate <= 0.01))
      r.fail(f, "'falseFailureRate' must be above 0 and at most 0.01, got " + describe(f));
  }
  if (m.has("probe")) {
    YAML::Node pn = m.need("probe");
    if (choice(r, pn, "'probe'", {"connect", "out-of-window"}) == "out-of-window") {
      e.probe = ProbeKind::OutOfWindow;
      if (e.protocol != Protocol::TCP || e.from.localhost)
        r.fail(pn, "'probe: out-of-window' needs a TCP flow from a pod, node or external client");
      if (!m.has("probes")) e.probes = 5;
      if (e.backends.kind != BackendExpectation::Kind::Any || e.source != SourceExpectation::Any)
        r.fail(pn, "'probe: out-of-window' checks only whether the segment reaches the client: give no backends or source");
    }
  }
  if (m.has("sourcePort")) e.source_port = port(r, m.need("sourcePort"), "'sourcePort'");
  if (m.has("before")) e.before = read_endpoint_changes(r, m.need("before"), c, "'before'");
  if (m.has("during")) e.during = read_endpoint_changes(r, m.need("during"), c, "'during'");
  if (!e.during.empty() && e.source_port != 0)
    r.fail(m.mark_of("during"), "'during' needs probes running side by side, but 'sourcePort' sends them one at a time");
  check_consistent(r, m, e);
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
    out.push_back(read_expectation(r, en, c, generators));
    auto [it, fresh] = names.emplace(out.back().name, r.where(en).line);
    if (!fresh)
      r.fail(en, "duplicate expectation name '" + out.back().name + "' (first at line " +
                     std::to_string(it->second) + ")");
  }
  return out;
}

}  // namespace harness::cases
