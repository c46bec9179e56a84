// Sweep expectations: one expectation over every front door of many Services
// (docs/case-format.md, "Sweeps").
#include <algorithm>
#include <regex>
#include <set>

#include "base/strings.h"
#include "harness/cases/case_loader.h"
#include "harness/cases/sections.h"

namespace harness::cases {

namespace {

constexpr FrontDoor kDoors[] = {FrontDoor::ClusterIP, FrontDoor::NodePort, FrontDoor::ExternalIP,
                                FrontDoor::LoadBalancerIP, FrontDoor::ClusterIPUndefinedPort};

FrontDoor front_door(const Reader& r, const YAML::Node& n) {
  std::vector<std::string> names;
  for (FrontDoor d : kDoors) names.push_back(to_string(d));
  std::string d = choice(r, n, "a front door in 'doors'", names);
  for (FrontDoor f : kDoors)
    if (to_string(f) == d) return f;
  return FrontDoor::ClusterIP;
}

std::vector<FrontDoor> read_doors(const Reader& r, const YAML::Node& n) {
  auto items = list(r, n, "'doors'");
  if (items.empty())
    r.fail(n,
           "'doors' is empty: name at least one of clusterIP, nodePort, externalIP, loadBalancerIP, "
           "clusterIPUndefinedPort");
  std::vector<FrontDoor> doors;
  std::set<FrontDoor> seen;
  for (const auto& d : items) {
    FrontDoor door = front_door(r, d);
    if (!seen.insert(door).second) r.fail(d, "front door '" + to_string(door) + "' appears twice in 'doors'");
    doors.push_back(door);
  }
  return doors;
}

// services: all | {namespace: NS, name: REGEX}
void read_services(const Reader& r, const YAML::Node& n, Sweep& s) {
  if (n.IsScalar()) {
    choice(r, n, "'services'", {"all"});
    return;
  }
  if (!n.IsMap()) r.fail(n, "'services' must be all or {namespace: NS, name: REGEX}, got " + describe(n));
  MapReader m(r, n, "sweep 'services'", {"namespace", "name"});
  if (!m.has("namespace") && !m.has("name"))
    r.fail(n, "'services' selects by 'namespace', 'name' (a regular expression) or both; for every Service write all");
  if (m.has("namespace")) s.ns = name(r, m.need("namespace"), "'namespace'");
  if (!m.has("name")) return;
  s.name_pattern = text(r, m.need("name"), "'name'");
  try {
    std::regex check(s.name_pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    r.fail(m.need("name"), "'name' is not a regular expression (ECMAScript): " + std::string(e.what()));
  }
}

Sweep read_sweep_map(const Reader& r, const YAML::Node& n) {
  MapReader m(r, n, "'sweep'", {"services", "doors", "show"});
  Sweep s;
  read_services(r, m.need("services"), s);
  if (m.has("doors")) s.doors = read_doors(r, m.need("doors"));
  if (m.has("show")) s.shown = static_cast<int>(integer(r, m.need("show"), "'show'", 0, 1000));
  return s;
}

std::map<std::string, Verdict> read_except(const Reader& r, const YAML::Node& ex, Verdict result,
                                           const std::vector<GeneratorSpec>& generators) {
  if (!ex.IsMap()) r.fail(ex, "'except' must be a map {GENERATOR: RESULT}, got " + describe(ex));
  std::map<std::string, Verdict> out;
  for (auto it = ex.begin(); it != ex.end(); ++it) {
    std::string g = text(r, it->first, "a generator in 'except'");
    check_generator_key(r, it->first, g, generators);
    if (out.count(g)) r.fail(it->first, "generator '" + g + "' appears twice in 'except'");
    out[g] = read_verdict(r, it->second, "the result for '" + g + "'");
    if (out[g] == result) r.fail(it->second, "'except' for '" + g + "' repeats the expectation's own result");
  }
  return out;
}

std::string door_names(const Sweep& s) {
  std::vector<std::string> d;
  for (FrontDoor f : s.doors) d.push_back(to_string(f));
  return kpath::join(d, ", ");
}

// Every probe of every door waiting out its timeout must fit in kMaxExpectationSeconds.
void check_sweep_budget(const Reader& r, const MapReader& m, const Expectation& e, size_t doors) {
  Expectation all = e;
  all.sweep.reset();
  all.probes = static_cast<int>(std::min<size_t>(doors * e.probes, 1'000'000'000));
  const auto worst = worst_case_duration(all);
  if (worst <= std::chrono::seconds(kMaxExpectationSeconds)) return;
  r.fail(m.mark_of("sweep"), "sweep '" + e.name + "' has " + std::to_string(doors) + " front doors x " +
                                 std::to_string(e.probes) + " probes, which may take up to " +
                                 std::to_string(worst.count() / 1000) +
                                 " s when every probe waits out its timeout; "
                                 "the limit is " +
                                 std::to_string(kMaxExpectationSeconds) +
                                 " s per expectation (a loader limit, see docs/case-format.md): sweep fewer "
                                 "Services or doors per expectation");
}

// backends and source judge replies: they need doors that must answer, and
// a uniform spread needs Services without session affinity (one client
// keeps one endpoint there).
void check_replies_judged(const Reader& r, const MapReader& m, const Expectation& e, const Cluster& c) {
  const bool judged = e.backends.kind != BackendExpectation::Kind::Any || e.source != SourceExpectation::Any;
  const bool undefined_port = std::count(e.sweep->doors.begin(), e.sweep->doors.end(),
                                         FrontDoor::ClusterIPUndefinedPort) > 0;
  if (undefined_port && e.result == Verdict::Reachable)
    r.fail(m.mark_of("sweep"),
           "sweep '" + e.name +
               "' probes clusterIPUndefinedPort, a port no Service port defines, which no endpoint may "
               "answer: give it a result of its own (refused, dropped or leaked) in a separate sweep");
  if (!judged) return;
  if (e.result != Verdict::Reachable)
    r.fail(m.mark_of(m.has("backends") ? "backends" : "source"),
           "sweep '" + e.name +
               "' expects no connection (result refused/dropped/leaked) but judges backends or source");
  if (e.backends.kind != BackendExpectation::Kind::Uniform) return;
  for (const auto& d : sweep_doors(c, *e.sweep))
    if (d.service->session_affinity_client_ip)
      r.fail(m.mark_of("backends"), "sweep '" + e.name + "' wants 'backends: uniform', but Service '" +
                                        d.service->key() +
                                        "' has sessionAffinity ClientIP, which keeps one client on one endpoint: "
                                        "leave it out of this sweep ('services')");
}

}  // namespace

bool is_sweep(const YAML::Node& n) {
  if (!n.IsMap()) return false;
  for (auto it = n.begin(); it != n.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == "sweep") return true;
  return false;
}

Expectation read_sweep(const Reader& r, const YAML::Node& n, const Cluster& c,
                       const std::vector<GeneratorSpec>& generators) {
  MapReader m(r, n, "sweep expectation",
              {"name", "from", "sweep", "probes", "result", "except", "before", "backends", "source",
               "falseFailureRate"});
  Expectation e;
  e.where = r.where(n);
  e.sweep = read_sweep_map(r, m.need("sweep"));
  e.from = read_source(r, m.need("from"), c);
  if (e.from.localhost)
    r.fail(m.need("from"),
           "a sweep probes node and Service addresses: 'from' is a node, pod or external, "
           "not NODE/localhost");
  e.name = m.has("name") ? text(r, m.need("name"), "expectation 'name'") : e.from.str() + " -> every front door";
  if (m.has("result")) e.result = read_verdict(r, m.need("result"), "'result'");
  e.probes = m.has("probes") ? static_cast<int>(integer(r, m.need("probes"), "'probes'", 1, 1000)) : 1;
  if (m.has("except")) e.except = read_except(r, m.need("except"), e.result, generators);
  if (m.has("before")) e.before = read_changes(r, m.need("before"), c, "'before'");
  if (m.has("backends"))
    e.backends.kind = choice(r, m.need("backends"), "a sweep's 'backends'", {"any", "uniform"}) == "uniform"
                          ? BackendExpectation::Kind::Uniform
                          : BackendExpectation::Kind::Any;
  if (m.has("source")) e.source = read_source_expectation(r, m.need("source"));
  if (m.has("falseFailureRate")) e.false_failure_rate = read_false_failure_rate(r, m.need("falseFailureRate"));
  size_t doors = sweep_doors(c, *e.sweep).size();
  if (doors == 0)
    r.fail(m.need("sweep"),
           "the sweep selects no front door: no Service it selects has a port with one of its "
           "'doors' (" +
               door_names(*e.sweep) + ")");
  check_sweep_budget(r, m, e, doors);
  check_replies_judged(r, m, e, c);
  return e;
}

}  // namespace harness::cases
