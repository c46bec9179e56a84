#include "harness/verdict/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "harness/stats/distribution.h"

namespace harness {

std::string to_string(Status s) {
  switch (s) {
    case Status::Pass: return "PASS";
    case Status::Fail: return "FAIL";
    case Status::Error: return "ERROR";
    case Status::Skip: return "SKIP";
  }
  return "?";
}

std::string to_string(Verdict v) {
  switch (v) {
    case Verdict::Reachable: return "reachable";
    case Verdict::Refused: return "refused";
    case Verdict::Dropped: return "dropped";
    case Verdict::Leaked: return "leaked";
  }
  return "?";
}

Verdict expected_verdict(const Expectation& e, const std::string& generator, ProxyMode mode) {
  if (auto it = e.except.find(generator); it != e.except.end()) return it->second;
  if (mode == ProxyMode::None) return e.result;
  auto it = e.except.find(to_string(mode));
  return it == e.except.end() ? e.result : it->second;
}

bool shows(Verdict want, Outcome o, DroppedAt at) {
  switch (want) {
    case Verdict::Reachable: return o == Outcome::Reply;
    case Verdict::Refused: return o == Outcome::Refused;
    case Verdict::Dropped:
      return (o == Outcome::Timeout && at != DroppedAt::Output) || (o == Outcome::OutputDrop && at != DroppedAt::Path);
    case Verdict::Leaked: return o == Outcome::Leaked;
  }
  return false;
}

namespace {

std::string outcome_counts(const std::map<Outcome, int>& outcomes) {
  std::string s;
  for (const auto& [o, n] : outcomes) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", n, to_string(o));
  return s;
}

void fail(CheckResult& r, const std::string& why) {
  r.status = Status::Fail;
  r.summary = r.summary.empty() ? why : r.summary + "; " + why;
}

// Probe i's client with `sources:` (its index in flow.sources).
size_t client_of(const Flow& flow, size_t probe) { return probe % flow.sources.size(); }

// What a distribution is judged on: every answer; with `sources:` through a
// Service with session affinity, each client's first answer only (its later
// ones repeat that pick, so they are not independent draws).
std::map<std::string, uint64_t> judged_counts(const CheckResult& r, const Flow& flow,
                                              const std::vector<ProbeResult>& results) {
  if (flow.sources.empty() || !flow.affinity) return r.backends;
  std::map<std::string, uint64_t> firsts;
  std::vector<bool> seen(flow.sources.size(), false);
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].outcome != Outcome::Reply || seen[client_of(flow, i)]) continue;
    seen[client_of(flow, i)] = true;
    firsts[results[i].reply.backend]++;
  }
  return firsts;
}

void check_distribution(CheckResult& r, const Expectation& e, const Flow& flow,
                        const std::vector<ProbeResult>& results) {
  const std::map<std::string, uint64_t> counts = judged_counts(r, flow, results);
  std::map<std::string, double> weights;
  const auto& want = e.backends;
  switch (want.kind) {
    case BackendExpectation::Kind::Any:
    case BackendExpectation::Kind::Sticky: return;
    case BackendExpectation::Kind::Uniform: weights = flow.eligible; break;
    case BackendExpectation::Kind::Weighted: weights = want.weights; break;
    case BackendExpectation::Kind::OneOf:
      for (const auto& [pod, n] : counts)
        if (!want.weights.count(pod))
          fail(r, fmt::format("{} answered {} probes but is not one of the expected backends", pod, n));
      return;
  }
  if (weights.empty()) {
    fail(r, "no endpoint is eligible for this flow, yet probes were answered");
    return;
  }
  std::vector<std::string> names;
  std::vector<double> w;
  std::vector<uint64_t> observed;
  for (const auto& [pod, weight] : weights) {
    names.push_back(pod);
    w.push_back(weight);
    observed.push_back(counts.count(pod) ? counts.at(pod) : 0);
  }
  for (const auto& [pod, n] : counts) {
    if (weights.count(pod)) continue;
    names.push_back(pod);
    w.push_back(0);
    observed.push_back(n);
  }
  auto d = stats::check_distribution(names, w, observed, e.false_failure_rate);
  r.p_value = d.p_value;
  r.alpha = d.alpha;
  for (size_t i = 0; i < names.size() && i < d.expected.size(); ++i) r.expected[names[i]] = d.expected[i];
  std::string table = fmt::format("    {:<48} {:>9} {:>9}\n", "backend", "expected", "observed");
  for (size_t i = 0; i < names.size(); ++i)
    table += fmt::format("    {:<48} {:>9.1f} {:>9}\n", names[i], i < d.expected.size() ? d.expected[i] : 0.0,
                         observed[i]);
  table += fmt::format("    {}: p = {:.3g}, false-failure rate {:.0e}\n", d.test, d.p_value, d.alpha);
  if (!d.pass) {
    fail(r, d.reason.empty() ? fmt::format("distribution does not fit (p = {:.3g} < {:.0e})", d.p_value, d.alpha)
                             : d.reason);
    r.detail += table;
  } else {
    r.summary = fmt::format("{} (p = {:.2g}{})", r.summary, d.p_value,
                            counts == r.backends ? ""
                                                 : fmt::format(" over {} clients' first picks", flow.sources.size()));
  }
}

// A node sending from a secondary address of its own is masqueraded only if
// the backend sees another address: that one seen is the unrewritten source.
// (IPv4's secondary addresses are no node address here anyway; an IPv6 node's
// are, as masquerade may pick any of them by the kernel's source selection.)
void drop_unrewritten(std::vector<Ip>& allowed, const Cluster& c, const Source& from) {
  if (!from.address) return;
  const Node* node = c.node(from.name);
  if (!node) return;
  auto first = std::find_if(node->ips.begin(), node->ips.end(),
                            [&](const Ip& ip) { return ip.family() == from.address->family(); });
  if (first != node->ips.end() && *first == *from.address) return;
  allowed.erase(std::remove(allowed.begin(), allowed.end(), *from.address), allowed.end());
}

void check_source(CheckResult& r, const Cluster& c, const Expectation& e, const Flow& flow,
                  const std::vector<ProbeResult>& results) {
  if (e.source == SourceExpectation::Any) return;
  std::vector<Ip> allowed = e.source == SourceExpectation::Node ? node_addresses(c) : flow.from_ips;
  if (e.source == SourceExpectation::Node) drop_unrewritten(allowed, c, e.from);
  std::map<std::string, int> wrong;
  for (const auto& p : results) {
    if (p.outcome != Outcome::Reply) continue;
    if (std::find(allowed.begin(), allowed.end(), p.reply.peer) == allowed.end()) ++wrong[p.reply.peer.str()];
  }
  if (wrong.empty()) return;
  std::string seen;
  for (const auto& [ip, n] : wrong) seen += fmt::format("{}{} ({}x)", seen.empty() ? "" : ", ", ip, n);
  std::string want_list;
  for (const auto& ip : allowed) want_list += (want_list.empty() ? "" : ", ") + ip.str();
  fail(r, e.source == SourceExpectation::Node
              ? fmt::format("source not masqueraded: backends saw {} instead of a node address ({})", seen, want_list)
              : fmt::format("source not preserved: backends saw {} instead of the client's {}", seen, want_list));
}

// Which kind of address each backend saw: what `source:` judges, as a class.
void count_sources(CheckResult& r, const Cluster& c, const Flow& flow, const std::vector<ProbeResult>& results) {
  std::vector<Ip> nodes = node_addresses(c);
  auto in = [](const std::vector<Ip>& ips, const Ip& ip) { return std::find(ips.begin(), ips.end(), ip) != ips.end(); };
  for (const auto& p : results) {
    if (p.outcome != Outcome::Reply) continue;
    r.sources[in(nodes, p.reply.peer) ? "node" : in(flow.from_ips, p.reply.peer) ? "client" : "other"]++;
  }
}

// "10.96.99.99 (10x), 198.51.100.10 (2x)": a count per distinct text.
std::string counted(const std::map<std::string, int>& seen) {
  std::string out;
  for (const auto& [what, n] : seen) out += fmt::format("{}{} ({}x)", out.empty() ? "" : ", ", what, n);
  return out;
}

// Where un-NATed probes went: the addresses the sink was reached on.
std::string leaks(const std::vector<ProbeResult>& results) {
  std::map<std::string, int> to;
  for (const auto& p : results)
    if (p.outcome == Outcome::Leaked) ++to[p.reply.local.str()];
  return to.empty() ? "" : "leaked to " + counted(to) + " un-NATed";
}

// refusedAt: every refusal an ICMP error sent from one of the node's addresses.
// Returns false when one is not (and fails r).
bool check_refused_at(CheckResult& r, const Expectation& e, const Cluster& c, const std::vector<ProbeResult>& results) {
  const Node& node = *c.node(e.refused_at);  // the loader checked the name
  std::map<std::string, int> elsewhere;
  int refused = 0;
  for (const auto& p : results) {
    if (p.outcome != Outcome::Refused) continue;
    ++refused;
    if (!p.refusal.icmp || std::find(node.ips.begin(), node.ips.end(), p.refusal.from) == node.ips.end())
      ++elsewhere[p.refusal.str()];
  }
  if (elsewhere.empty()) return true;
  int n = 0;
  for (const auto& [what, k] : elsewhere) n += k;
  std::string ips;
  for (const auto& ip : node.ips) ips += (ips.empty() ? "" : ", ") + ip.str();
  fail(r, fmt::format("refused by {} in {} of {} probes, expected an ICMP error from {} ({})", counted(elsewhere), n,
                      refused, node.name, ips));
  return false;
}

// Who refused: a REJECT rule's ICMP error or the node's stack's RST.
void check_refusals(CheckResult& r, const Expectation& e, const Cluster& c, const std::vector<ProbeResult>& results) {
  std::map<std::string, int> by;
  int rule = 0, stack = 0;
  for (const auto& p : results) {
    if (p.outcome != Outcome::Refused) continue;
    ++by[p.refusal.str()];
    ++(p.refusal.icmp ? rule : stack);
  }
  if (by.empty()) return;
  if (e.refused_by == RefusedBy::Rule && stack > 0)
    return fail(r, fmt::format("refused by the node's stack (TCP RST) in {} of {} probes, expected a REJECT rule's "
                               "ICMP error (nothing rejected the flow: it reached a port nothing listens on)",
                               stack, rule + stack));
  if (e.refused_by == RefusedBy::Stack && rule > 0)
    return fail(r, fmt::format("refused by a rule ({}) in {} of {} probes, expected the node's stack (TCP RST)",
                               counted(by), rule, rule + stack));
  if (!e.refused_at.empty() && !check_refused_at(r, e, c, results)) return;
  r.summary += " by " + counted(by);
}

// Where dropped probes were dropped: on the sender's own output (EPERM at
// once) or on the path (no answer), against droppedAt.
void check_drops(CheckResult& r, const Expectation& e, const std::map<Outcome, int>& outcomes) {
  auto count = [&](Outcome o) { return outcomes.count(o) ? outcomes.at(o) : 0; };
  const int output = count(Outcome::OutputDrop), path = count(Outcome::Timeout);
  if (e.dropped_at == DroppedAt::Output && path > 0)
    return fail(r, fmt::format("timed out in {} of {} dropped probes, expected a drop on the sender's output "
                               "(EPERM at once)",
                               path, output + path));
  if (e.dropped_at == DroppedAt::Path && output > 0)
    return fail(r, fmt::format("dropped on the sender's output (EPERM) in {} of {} dropped probes, expected a drop "
                               "on the path (a timeout)",
                               output, output + path));
  if (r.status == Status::Fail) return;
  r.summary += output == 0 ? " (timed out)"
               : path == 0 ? " on the sender's output (EPERM)"
                           : fmt::format(" ({} on the sender's output (EPERM), {} timed out)", output, path);
}

// An HTTP probe: every answer must carry the expected status.
void check_http(CheckResult& r, const Expectation& e, const std::vector<ProbeResult>& results) {
  if (e.http_status == 0) return;
  std::map<std::string, int> wrong;
  std::string body;
  for (const auto& p : results) {
    if (p.outcome != Outcome::Reply) continue;
    if (body.empty()) body = p.http_body;
    if (p.http_status != e.http_status) ++wrong[fmt::format("HTTP {} ({})", p.http_status, p.http_body)];
  }
  if (!wrong.empty()) return fail(r, fmt::format("answered {}, expected HTTP {}", counted(wrong), e.http_status));
  r.summary += fmt::format(", HTTP {} {}", e.http_status, body);
}

// random-fully: a masqueraded reply keeps the client's source port only by
// chance, about 1 in the size of the port range (at least 16384 ports here,
// 64512 in fact); plain masquerade keeps it whenever it is free.
void check_source_ports(CheckResult& r, const Expectation& e, const Flow& flow,
                        const std::vector<ProbeResult>& results) {
  if (!e.random_source_ports) return;
  int masqueraded = 0, kept = 0;
  for (const auto& p : results) {
    if (p.outcome != Outcome::Reply) continue;
    if (std::find(flow.from_ips.begin(), flow.from_ips.end(), p.reply.peer) != flow.from_ips.end()) continue;
    ++masqueraded;
    if (p.reply.peer_port == p.local_port) ++kept;
  }
  if (masqueraded == 0)
    return fail(r, "sourcePorts: random, but no reply was masqueraded (every backend saw the client's own address)");
  // The most kept ports chance allows at the false-failure rate: P(X > k) < alpha for X ~ Binomial(n, 1/16384).
  const double q = 1.0 / 16384;
  double term = std::pow(1 - q, masqueraded), tail = 1 - term;
  int allowed = 0;
  while (tail >= e.false_failure_rate && allowed < masqueraded) {
    term *= (masqueraded - allowed) / (allowed + 1.0) * q / (1 - q);
    tail -= term;
    ++allowed;
  }
  if (kept > allowed)
    return fail(r, fmt::format("source ports not randomised: backends saw the client's own source port in {} of {} "
                               "masqueraded replies (random-fully keeps it by chance only, at most {} here)",
                               kept, masqueraded, allowed));
  r.summary += fmt::format(", source port kept in {}/{} masqueraded", kept, masqueraded);
}

// affinity: expires. Results come in pairs: the second of a pair, half the
// timeout after the first, must reach the same backend; the pairs, each more
// than the timeout after the last, must not all reach one backend.
void check_affinity_expiry(CheckResult& r, const Expectation& e, const Flow& flow,
                           const std::vector<ProbeResult>& results) {
  if (!e.affinity_expires) return;
  std::vector<std::string> firsts;
  for (size_t i = 0; i + 1 < results.size(); i += 2) {
    const auto& a = results[i];
    const auto& b = results[i + 1];
    if (a.outcome != Outcome::Reply || b.outcome != Outcome::Reply) continue;
    if (a.reply.backend != b.reply.backend)
      return fail(r,
                  fmt::format("session affinity did not last its timeout: {} then {} within {} s (timeoutSeconds {})",
                              a.reply.backend, b.reply.backend, e.affinity_timeout / 2.0, e.affinity_timeout));
    firsts.push_back(a.reply.backend);
  }
  size_t n = flow.eligible.size();
  if (n < 2) return fail(r, "'affinity: expires' needs at least two endpoints to tell a fresh pick from a kept one");
  int changes = 0;
  for (size_t i = 1; i < firsts.size(); ++i) changes += firsts[i] != firsts[i - 1];
  double p = std::pow(1.0 / static_cast<double>(n), static_cast<double>(firsts.size()) - 1);
  if (changes > 0) {
    r.summary += fmt::format(", affinity expired ({} new picks in {} pairs)", changes, firsts.size());
    return;
  }
  if (p >= e.false_failure_rate)
    return fail(r,
                fmt::format("too few pairs to tell: {} pairs over {} endpoints stay on one by chance with p = {:.2g} "
                            ">= falseFailureRate; give more probes",
                            firsts.size(), n, p));
  fail(r, fmt::format("session affinity never expired: {} pairs, each {} s after the last (timeoutSeconds {}), all "
                      "reached {} (p = {:.2g} with {} endpoints)",
                      firsts.size(), affinity_pause(e).count() / 1000.0, e.affinity_timeout,
                      firsts.empty() ? "?" : firsts.front(), p, n));
}

void check_sticky(CheckResult& r, const Expectation& e, const Flow& flow, const std::vector<ProbeResult>& results) {
  if (e.backends.kind != BackendExpectation::Kind::Sticky) return;
  if (flow.sources.empty()) {
    if (r.backends.size() > 1) {
      std::string seen;
      for (const auto& [pod, n] : r.backends) seen += fmt::format("{}{} ({}x)", seen.empty() ? "" : ", ", pod, n);
      fail(r, "session affinity broken: one client reached " + seen);
    }
    return;
  }
  // Each client (source address) must keep its own first pick.
  std::vector<std::map<std::string, int>> reached(flow.sources.size());
  for (size_t i = 0; i < results.size(); ++i)
    if (results[i].outcome == Outcome::Reply) reached[client_of(flow, i)][results[i].reply.backend]++;
  std::vector<std::string> broken;
  for (size_t c = 0; c < reached.size(); ++c) {
    if (reached[c].size() < 2) continue;
    std::string seen;
    for (const auto& [pod, n] : reached[c]) seen += fmt::format("{}{} ({}x)", seen.empty() ? "" : ", ", pod, n);
    broken.push_back(flow.sources[c].str() + " reached " + seen);
  }
  if (broken.empty()) {
    r.summary += fmt::format(", each of {} clients kept one backend", flow.sources.size());
    return;
  }
  std::string shown;
  for (size_t i = 0; i < broken.size() && i < 3; ++i) shown += (i ? "; " : "") + broken[i];
  fail(r, fmt::format("session affinity broken for {} of {} clients: {}{}", broken.size(), flow.sources.size(), shown,
                      broken.size() > 3 ? "; ..." : ""));
}

}  // namespace

CheckResult check_probes(const Cluster& c, const Expectation& e, const Flow& flow, Verdict want,
                         const std::vector<ProbeResult>& results) {
  CheckResult r;
  r.want = want;
  count_sources(r, c, flow, results);
  for (const auto& p : results) {
    r.outcomes[p.outcome]++;
    if (p.outcome == Outcome::Reply) r.backends[p.reply.backend]++;
  }
  const DroppedAt at = want == Verdict::Dropped ? e.dropped_at : DroppedAt::Any;
  int total = static_cast<int>(results.size());
  int good = 0;
  for (const auto& [o, n] : r.outcomes) good += shows(want, o, at) ? n : 0;
  const char* reached = e.probe == ProbeKind::OutOfWindow ? "reached the client" : "answered";
  r.summary = fmt::format("{}/{} {}", good, total, want == Verdict::Reachable ? reached : to_string(want).c_str());
  if (good != total) {
    r.status = Status::Fail;
    r.summary = fmt::format("expected {}, observed {}", to_string(want), outcome_counts(r.outcomes));
    if (want != Verdict::Leaked)
      if (std::string leaked = leaks(results); !leaked.empty()) r.summary += "; " + leaked;
  } else if (want == Verdict::Leaked) {
    r.summary = fmt::format("{}/{} {}", good, total, leaks(results));
  }
  if (want == Verdict::Refused) check_refusals(r, e, c, results);
  if (want == Verdict::Dropped) check_drops(r, e, r.outcomes);
  if (want == Verdict::Reachable && good > 0) {
    check_distribution(r, e, flow, results);
    check_sticky(r, e, flow, results);
    check_source(r, c, e, flow, results);
    check_http(r, e, results);
    check_source_ports(r, e, flow, results);
    check_affinity_expiry(r, e, flow, results);
  }
  if (!r.backends.empty() && r.detail.empty() && r.status == Status::Fail) {
    for (const auto& [pod, n] : r.backends) r.detail += fmt::format("    {:<48} {:>9}\n", pod, n);
  }
  return r;
}

}  // namespace harness
