#include "harness/verdict/check.h"

#include <fmt/format.h>

#include <algorithm>
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
  }
  return "?";
}

Verdict expected_verdict(const Expectation& e, const std::string& generator, ProxyMode mode) {
  if (auto it = e.except.find(generator); it != e.except.end()) return it->second;
  if (mode == ProxyMode::None) return e.result;
  auto it = e.except.find(to_string(mode));
  return it == e.except.end() ? e.result : it->second;
}

namespace {

Outcome outcome_for(Verdict v) {
  switch (v) {
    case Verdict::Reachable: return Outcome::Reply;
    case Verdict::Refused: return Outcome::Refused;
    case Verdict::Dropped: return Outcome::Timeout;
  }
  return Outcome::Error;
}

std::string outcome_counts(const std::map<Outcome, int>& outcomes) {
  std::string s;
  for (const auto& [o, n] : outcomes) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", n, to_string(o));
  return s;
}

void fail(CheckResult& r, const std::string& why) {
  r.status = Status::Fail;
  r.summary = r.summary.empty() ? why : r.summary + "; " + why;
}

void check_distribution(CheckResult& r, const Expectation& e, const Flow& flow) {
  std::map<std::string, double> weights;
  const auto& want = e.backends;
  switch (want.kind) {
    case BackendExpectation::Kind::Any:
    case BackendExpectation::Kind::Sticky: return;
    case BackendExpectation::Kind::Uniform: weights = flow.eligible; break;
    case BackendExpectation::Kind::Weighted: weights = want.weights; break;
    case BackendExpectation::Kind::OneOf:
      for (const auto& [pod, n] : r.backends)
        if (!want.weights.count(pod)) fail(r, fmt::format("{} answered {} probes but is not one of the expected backends", pod, n));
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
    observed.push_back(r.backends.count(pod) ? r.backends.at(pod) : 0);
  }
  for (const auto& [pod, n] : r.backends) {
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
    r.summary = fmt::format("{} (p = {:.2g})", r.summary, d.p_value);
  }
}

void check_source(CheckResult& r, const Cluster& c, const Expectation& e, const Flow& flow,
                  const std::vector<ProbeResult>& results) {
  if (e.source == SourceExpectation::Any) return;
  std::vector<Ip> allowed = e.source == SourceExpectation::Node ? node_addresses(c) : flow.from_ips;
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

void check_sticky(CheckResult& r, const Expectation& e) {
  if (e.backends.kind != BackendExpectation::Kind::Sticky) return;
  if (r.backends.size() > 1) {
    std::string seen;
    for (const auto& [pod, n] : r.backends) seen += fmt::format("{}{} ({}x)", seen.empty() ? "" : ", ", pod, n);
    fail(r, "session affinity broken: one client reached " + seen);
  }
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
  Outcome want_outcome = outcome_for(want);
  int total = static_cast<int>(results.size());
  int good = r.outcomes.count(want_outcome) ? r.outcomes.at(want_outcome) : 0;
  const char* reached = e.probe == ProbeKind::OutOfWindow ? "reached the client" : "answered";
  r.summary = fmt::format("{}/{} {}", good, total, want == Verdict::Reachable ? reached : to_string(want).c_str());
  if (good != total) {
    r.status = Status::Fail;
    r.summary = fmt::format("expected {}, observed {}", to_string(want), outcome_counts(r.outcomes));
  }
  if (want == Verdict::Reachable && good > 0) {
    check_distribution(r, e, flow);
    check_sticky(r, e);
    check_source(r, c, e, flow, results);
  }
  if (!r.backends.empty() && r.detail.empty() && r.status == Status::Fail) {
    for (const auto& [pod, n] : r.backends) r.detail += fmt::format("    {:<48} {:>9}\n", pod, n);
  }
  return r;
}

}  // namespace harness
