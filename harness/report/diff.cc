#include "harness/report/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "harness/run/scheduler.h"

namespace harness {

namespace {

// What one side saw of one aspect: a name per category with its count.
using Seen = std::map<std::string, uint64_t>;

uint64_t total(const Seen& s) {
  uint64_t n = 0;
  for (const auto& [k, v] : s) n += v;
  return n;
}

// Is `name`, seen k times in `has`, plausibly absent from `lacks` by chance?
bool plausibly_absent(const std::string& name, const Seen& has, const Seen& lacks, double alpha) {
  double share = static_cast<double>(has.at(name)) / static_cast<double>(total(has));
  return std::pow(1 - share, static_cast<double>(total(lacks))) >= alpha;
}

// The categories only one side has, when that is no chance.
bool differ(const Seen& a, const Seen& b, double alpha) {
  auto one_sided = [&](const Seen& x, const Seen& y) {
    for (const auto& [name, n] : x)
      if (n > 0 && !y.count(name) && !plausibly_absent(name, x, y, alpha)) return true;
    return false;
  };
  return one_sided(a, b) || one_sided(b, a);
}

std::string names(const Seen& s) {
  std::string out;
  for (const auto& [name, n] : s) out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", name, n);
  return out.empty() ? "none" : out;
}

Seen outcomes(const CheckResult& c) {
  Seen s;
  for (const auto& [o, n] : c.outcomes)
    if (n > 0) s[to_string(o)] = static_cast<uint64_t>(n);
  return s;
}

// Whether every probe of a side ended as its verdict wants (dropped: a
// timeout or a drop on the sender's output, as droppedAt allows).
bool showed(const CheckResult& c, const Expectation& e, Verdict want) {
  const DroppedAt at = want == Verdict::Dropped ? e.dropped_at : DroppedAt::Any;
  return std::all_of(c.outcomes.begin(), c.outcomes.end(),
                     [&](const auto& seen) { return seen.second == 0 || shows(want, seen.first, at); });
}

std::string declaration(const Expectation& e) {
  std::string s;
  for (const auto& [key, v] : e.except) s += fmt::format("{}{}: {}", s.empty() ? "" : ", ", key, to_string(v));
  return "except: {" + s + "}";
}

struct Side {
  const CaseRun* run;
  const ExpectationRun* er;
  Verdict want() const { return expected_verdict(*er->expectation, run->generator, run->mode); }
};

void compare(const Side& a, const Side& b, DiffResult& d) {
  const Expectation& e = *a.er->expectation;
  Difference base{a.run->case_name, a.run->file, expectation_name(e), fmt::format("{}:{}", e.where.file, e.where.line)};
  base.declaration = declaration(e);
  bool declared = a.want() != b.want();
  const CheckResult &ca = a.er->check, &cb = b.er->check;
  double alpha = e.false_failure_rate;
  Seen oa = outcomes(ca), ob = outcomes(cb);
  if (differ(oa, ob, alpha)) {
    Difference v = base;
    v.aspect = "verdict";
    v.a = names(oa);
    v.b = names(ob);
    // Declared when each side showed the verdict the case wants of it.
    v.declared = declared && !oa.empty() && !ob.empty() && showed(ca, e, a.want()) && showed(cb, e, b.want());
    d.differences.push_back(v);
    return;  // the backends and sources follow from the verdict
  }
  if (declared)
    d.declared_not_seen.push_back(fmt::format("{}: {} [{}] ({}): both {}", base.case_name, base.expectation, base.where,
                                              base.declaration, names(oa)));
  // With changes made mid-probe, who answers depends on when the new rules
  // land, not on the generator: only the verdict says something then.
  if (!e.during.empty()) return;
  // A sticky client, and a UDP flow from one source port (one conntrack
  // entry), keep the endpoint their first packet drew: which one is chance.
  bool one_pick = e.backends.kind == BackendExpectation::Kind::Sticky ||
                  (e.source_port != 0 && e.protocol == Protocol::UDP);
  Seen ba(ca.backends.begin(), ca.backends.end()), bb(cb.backends.begin(), cb.backends.end());
  if (one_pick ? ba.size() != bb.size() : differ(ba, bb, alpha)) {
    Difference v = base;
    v.aspect = "backends";
    v.a = names(ba);
    v.b = names(bb);
    d.differences.push_back(v);
  }
  Seen sa(ca.sources.begin(), ca.sources.end()), sb(cb.sources.begin(), cb.sources.end());
  if (differ(sa, sb, alpha)) {
    Difference v = base;
    v.aspect = "source";
    v.a = names(sa);
    v.b = names(sb);
    d.differences.push_back(v);
  }
}

const ExpectationRun* result_for(const CaseRun& run, const Expectation* e) {
  for (const auto& er : run.expectations)
    if (er.expectation == e) return &er;
  return nullptr;
}

void compare_runs(const CaseRun& a, const CaseRun& b, DiffResult& d) {
  for (const Expectation* e : a.planned) {
    const ExpectationRun* ea = result_for(a, e);
    const ExpectationRun* eb = result_for(b, e);
    if (!ea || !eb) continue;
    ++d.compared;
    compare({&a, ea}, {&b, eb}, d);
  }
  for (const CaseRun* r : {&a, &b})
    if (r->status == Status::Error || r->status == Status::Skip)
      d.not_compared.push_back(fmt::format("{} ({}): {} {}", r->case_name, r->generator, to_string(r->status),
                                           r->error.substr(0, r->error.find('\n'))));
}

}  // namespace

size_t DiffResult::undeclared() const {
  return static_cast<size_t>(
      std::count_if(differences.begin(), differences.end(), [](const Difference& x) { return !x.declared; }));
}

int DiffResult::exit_status() const {
  if (undeclared() > 0) return 1;
  return errors ? 3 : 0;
}

DiffResult diff_runs(const std::vector<CaseRun>& runs, const std::string& a, const std::string& b) {
  DiffResult d{a, b};
  for (const auto& r : runs) d.errors |= r.status == Status::Error;
  for (size_t i = 0; i < runs.size();) {
    bool pair = i + 1 < runs.size() && runs[i].file == runs[i + 1].file && runs[i].case_name == runs[i + 1].case_name &&
                runs[i].generator == a && runs[i + 1].generator == b;
    if (!pair) {
      d.not_compared.push_back(
          fmt::format("{} ({}): the case pins its generator", runs[i].case_name, runs[i].generator));
      ++i;
      continue;
    }
    compare_runs(runs[i], runs[i + 1], d);
    i += 2;
  }
  return d;
}

std::string format_diff(const DiffResult& d) {
  std::string out;
  for (const auto& x : d.differences)
    out += fmt::format("{:<10} {} [{}]\n  {}\n  {} ({})\n    {}: {}\n    {}: {}\n",
                       x.declared ? "DECLARED" : "UNDECLARED", x.case_name, x.where, x.expectation, x.aspect,
                       x.declared ? x.declaration : "not declared", d.a, x.a, d.b, x.b);
  for (const auto& s : d.declared_not_seen) out += "DECLARED, NOT SEEN " + s + "\n";
  for (const auto& s : d.not_compared) out += "NOT COMPARED " + s + "\n";
  size_t undeclared = d.undeclared();
  out += fmt::format("\n{} vs {}: {} expectations compared, {} differences ({} declared, {} undeclared){}\n", d.a, d.b,
                     d.compared, d.differences.size(), d.differences.size() - undeclared, undeclared,
                     d.declared_not_seen.empty() ? ""
                                                 : fmt::format(", {} declared not seen", d.declared_not_seen.size()));
  return out;
}

}  // namespace harness
