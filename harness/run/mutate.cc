#include "harness/run/mutate.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "base/error.h"
#include "base/strings.h"
#include "harness/generators/registry.h"

namespace harness {

std::string Mutant::describe() const {
  const char* family = ipv6 ? " (ip6tables)" : "";
  if (change == Change::Removed) return fmt::format("removed{}: {}", family, rule);
  return fmt::format("perturbed{}: {} -> {}", family, rule, replacement.value_or(""));
}

std::vector<size_t> Mutant::tasks() const {
  std::vector<size_t> out;
  for (const auto& s : sites)
    if (std::find(out.begin(), out.end(), s.task) == out.end()) out.push_back(s.task);
  return out;
}

namespace {

using kpath::split_lines;
using kpath::starts_with_any;

// A line or list item without its surrounding blanks, as a string of its own.
std::string trimmed(std::string_view s) { return std::string(kpath::trim(s)); }

enum class LineKind { Other, Rule, Elements };

// Tells rules from declarations in an nft script, in both forms it comes in:
// commands (`add rule ...`, `add element ...`) and blocks (`table ... {
// chain ... { RULE } }`, as `nft list ruleset` prints them).
class NftLines {
 public:
  LineKind classify(const std::string& line) {
    const std::string t = trimmed(line);
    if (t.empty() || t.starts_with("#")) return LineKind::Other;
    if (t == "}" || t == "};") {
      if (!blocks_.empty()) blocks_.pop_back();
      return LineKind::Other;
    }
    if (t.ends_with("{")) {
      blocks_.push_back(t.substr(0, t.find(' ')));
      return LineKind::Other;
    }
    if (blocks_.empty()) {
      if (starts_with_any(t, {"add rule ", "insert rule "})) return LineKind::Rule;
      if (t.starts_with("add element ")) return LineKind::Elements;
      return LineKind::Other;
    }
    // Inside a chain block every line but the chain's own properties is a rule.
    if (blocks_.back() != "chain") return LineKind::Other;
    return starts_with_any(t, {"type ", "policy ", "comment ", "devices "}) ? LineKind::Other : LineKind::Rule;
  }

 private:
  std::vector<std::string> blocks_;  // the first word of each open block
};

LineKind iptables_kind(const std::string& line) {
  static const std::regex rule(R"(^(\[\d+:\d+\] )?-[AI] )");
  return std::regex_search(line, rule) ? LineKind::Rule : LineKind::Other;
}

// The elements of `add element T S { E1, E2 }`, split at the commas outside
// any nested braces; the text before the list in `head`.
std::vector<std::string> elements_of(const std::string& line, std::string& head) {
  size_t open = line.find('{');
  size_t close = line.rfind('}');
  if (open == std::string::npos || close == std::string::npos || close < open) return {};
  head = line.substr(0, open);
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (size_t i = open + 1; i < close; ++i) {
    char ch = line[i];
    if (ch == '{') ++depth;
    if (ch == '}') --depth;
    if (ch == ',' && depth == 0) {
      out.push_back(trimmed(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!trimmed(cur).empty()) out.push_back(trimmed(cur));
  return out;
}

std::string element_line(const std::string& head, const std::vector<std::string>& elements, size_t skip) {
  std::string list;
  for (size_t i = 0; i < elements.size(); ++i)
    if (i != skip) list += (list.empty() ? "" : ", ") + elements[i];
  return head + "{ " + list + " }";
}

// iptables' statistic match with half the probability: 0.5 -> 0.25.
std::optional<std::string> halved_probability(const std::string& line) {
  static const std::regex probability(R"(--probability ([0-9.]+))");
  std::smatch m;
  if (!std::regex_search(line, m, probability)) return std::nullopt;
  double p = std::stod(m[1].str());
  if (p <= 0) return std::nullopt;
  std::string out = line;
  out.replace(m.position(1), m.length(1), fmt::format("{:.11f}", p / 2));
  return out;
}

// `numgen random mod N vmap { 0 : a, ..., N-1 : z }` with N+1 slots, the last
// element's range widened to the two last: z gets 2/(N+1) of the traffic.
std::optional<std::string> widened_numgen(const std::string& line) {
  static const std::regex numgen(R"(numgen random mod (\d+))");
  std::smatch m;
  if (!std::regex_search(line, m, numgen)) return std::nullopt;
  int n = std::stoi(m[1].str());
  if (n < 2) return std::nullopt;  // one endpoint: more slots change nothing
  std::string out = line;
  size_t after = m.position(0) + m.length(0);
  const std::regex last_key("([{,]\\s*)" + std::to_string(n - 1) + "(\\s*:)");
  std::smatch k, found;
  auto from = out.cbegin() + static_cast<std::ptrdiff_t>(after);
  size_t key_pos = std::string::npos, key_len = 0;
  for (auto it = from; std::regex_search(it, out.cend(), k, last_key); it = k[0].second) {
    key_pos = static_cast<size_t>(k[0].first - out.cbegin()) + k.length(1);
    key_len = std::to_string(n - 1).size();
  }
  if (key_pos == std::string::npos) return std::nullopt;
  out.replace(key_pos, key_len, fmt::format("{}-{}", n - 1, n));
  out.replace(m.position(1), m.length(1), std::to_string(n + 1));
  return out;
}

void add_rule_mutants(const std::string& line, const std::string& node, RuleBackend backend, std::vector<Mutant>& out) {
  const std::string rule = trimmed(line);
  out.push_back({Mutant::Change::Removed, rule, line, std::nullopt, {{0, node}}});
  auto perturbed = backend == RuleBackend::Nft ? widened_numgen(line) : halved_probability(line);
  if (perturbed) out.push_back({Mutant::Change::Perturbed, rule, line, *perturbed, {{0, node}}});
}

void add_element_mutants(const std::string& line, const std::string& node, std::vector<Mutant>& out) {
  std::string head;
  std::vector<std::string> elements = elements_of(line, head);
  if (elements.size() <= 1) {
    out.push_back({Mutant::Change::Removed, trimmed(line), line, std::nullopt, {{0, node}}});
    return;
  }
  for (size_t i = 0; i < elements.size(); ++i)
    out.push_back({Mutant::Change::Removed,
                   trimmed(head) + " { " + elements[i] + " }",
                   line,
                   element_line(head, elements, i),
                   {{0, node}}});
}

}  // namespace

std::vector<Mutant> mutants_of(const RuleSet& rules, const std::string& node) {
  std::vector<Mutant> out;
  if (rules.backend != RuleBackend::IptablesRestore && rules.backend != RuleBackend::Nft) return out;
  NftLines nft;
  for (const auto& line : split_lines(rules.text)) {
    LineKind kind = rules.backend == RuleBackend::Nft ? nft.classify(line) : iptables_kind(line);
    if (kind == LineKind::Rule) add_rule_mutants(line, node, rules.backend, out);
    if (kind == LineKind::Elements) add_element_mutants(line, node, out);
  }
  if (rules.backend != RuleBackend::IptablesRestore) return out;
  const size_t v4 = out.size();
  for (const auto& line : split_lines(rules.text6))
    if (iptables_kind(line) == LineKind::Rule) add_rule_mutants(line, node, rules.backend, out);
  for (size_t i = v4; i < out.size(); ++i) out[i].ipv6 = true;
  return out;
}

namespace {

// text6 with every line equal to `line` replaced or removed; whether any was.
bool edit_lines(std::string& text, const std::string& line, const std::optional<std::string>& replacement) {
  std::string out;
  bool edited = false;
  for (const auto& l : split_lines(text)) {
    if (l != line) out += l + "\n";
    else if (replacement) out += *replacement + "\n";
    edited |= l == line;
  }
  if (edited) text = std::move(out);
  return edited;
}

}  // namespace

RuleSet MutatedGenerator::generate(const Cluster& cluster, const std::string& node) const {
  RuleSet rules = base_.generate(cluster, node);
  if (mutant_.ipv6) {  // the IPv6 text has no origin lines to keep
    if (edit_lines(rules.text6, mutant_.line, mutant_.replacement)) ++edits_;
    return rules;
  }
  std::vector<std::string> lines = split_lines(rules.text);
  std::string text;
  std::vector<int> origin;
  bool edited = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    int from = i < rules.origin_lines.size() ? rules.origin_lines[i] : static_cast<int>(i + 1);
    if (lines[i] == mutant_.line) {
      edited = true;
      if (!mutant_.replacement) continue;
      text += *mutant_.replacement + "\n";
    } else {
      text += lines[i] + "\n";
    }
    origin.push_back(from);  // installer errors still point at the generator's line
  }
  if (!edited) return rules;
  ++edits_;
  rules.text = std::move(text);
  rules.origin_lines = std::move(origin);
  return rules;
}

Applied MutatedGenerator::apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns,
                                RuleSet rules, const ApplyOptions& options) const {
  try {
    return base_.apply(cluster, node, node_ns, std::move(rules), options);
  } catch (const kpath::Error& e) {
    install_error_ = fmt::format("{}: {}", node, e.what());
    throw;
  }
}

bool Unobservable::covers(const Mutant& m, const std::string& generator_name, ProxyMode generator_mode) const {
  if (!generator.empty() && generator != generator_name) return false;
  if (mode && *mode != generator_mode) return false;
  if (change && *change != m.change) return false;
  // nft rules name their family; iptables mutants know their text's.
  if (ipv6 && *ipv6 != (m.ipv6 || m.rule.starts_with("add rule ip6 ") || m.rule.starts_with("add element ip6 ")))
    return false;
  return std::regex_search(m.rule, rule);
}

size_t MutationResult::count(MutantResult::Verdict v) const {
  return static_cast<size_t>(
      std::count_if(mutants.begin(), mutants.end(), [&](const MutantResult& r) { return r.verdict == v; }));
}

namespace {

// The same edit: one mutant, wherever it appears.
std::string edit_key(const Mutant& m) {
  return (m.ipv6 ? "6\n" : "4\n") + m.line + '\n' + m.replacement.value_or("\x01");
}

// Adds `m`'s sites to the mutant with the same edit in `out`, or appends it.
void merge(Mutant m, std::vector<Mutant>& out, std::map<std::string, size_t>& index, const std::string& key) {
  auto [it, fresh] = index.emplace(key, out.size());
  if (fresh) {
    out.push_back(std::move(m));
    return;
  }
  auto& sites = out[it->second].sites;
  for (auto& s : m.sites)
    if (std::find(sites.begin(), sites.end(), s) == sites.end()) sites.push_back(std::move(s));
}

}  // namespace

std::vector<Mutant> plan_mutants(const Task& task, size_t task_index, const Generator& generator) {
  Cluster cluster = task.c->cluster;
  std::vector<Mutant> out;
  std::map<std::string, size_t> index;
  auto collect = [&] {
    for (const auto& node : cluster.nodes)
      for (auto& m : mutants_of(generator.generate(cluster, node.name), node.name)) {
        m.sites = {{task_index, node.name}};
        std::string key = edit_key(m);
        merge(std::move(m), out, index, key);
      }
  };
  collect();
  // The rules every state of the run installs (a run re-applies after each change list).
  for (const auto& e : task.c->expect)
    for (const auto* changes : {&e.before, &e.during}) {
      if (changes->empty()) continue;
      for (const auto& change : *changes) apply_endpoint_change(cluster, change);
      collect();
    }
  return out;
}

std::vector<Mutant> plan_all_mutants(const std::vector<Task>& tasks, std::vector<UnmeasuredRun>* unmeasured) {
  std::vector<Mutant> out;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < tasks.size(); ++i) {
    try {
      auto generator = make_generator(tasks[i].generator);
      for (auto& m : plan_mutants(tasks[i], i, *generator)) {
        std::string key = tasks[i].generator.str() + '\n' + edit_key(m);
        merge(std::move(m), out, index, key);
      }
    } catch (const kpath::Error& e) {
      if (!unmeasured) throw;
      unmeasured->push_back({tasks[i].c->name, tasks[i].generator.name(), fmt::format("error: {}", e.what())});
    }
  }
  return out;
}

std::string describe_sites(const Mutant& m, const std::vector<Task>& tasks) {
  std::string out;
  for (size_t t : m.tasks()) {
    std::string nodes;
    for (const auto& s : m.sites)
      if (s.task == t) nodes += (nodes.empty() ? "" : ",") + s.node;
    out += fmt::format("{}{}@{}", out.empty() ? "" : " ", tasks[t].c->name, nodes);
  }
  return out;
}

namespace {

// Calls body(i) for i in [0, n) on `jobs` threads until *stop is set.
void parallel_for(size_t n, int jobs, const std::atomic<bool>* stop, const std::function<void(size_t)>& body) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; !(stop && stop->load()) && (i = next++) < n;) body(i);
  };
  std::vector<std::thread> pool;
  for (int j = 0; j < std::min<int>(std::max(jobs, 1), static_cast<int>(n)); ++j) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
}

const ExpectationRun* first_failure(const CaseRun& run) {
  for (const auto& e : run.expectations)
    if (e.check.status == Status::Fail) return &e;
  return nullptr;
}

// Why an unmutated run cannot judge mutants, or nullopt when it passed.
std::optional<std::string> baseline_problem(const CaseRun& run) {
  switch (run.status) {
    case Status::Pass: return std::nullopt;
    case Status::Skip: return "skipped: " + run.error;
    case Status::Error: return "error: " + run.error;
    case Status::Fail:
      if (const auto* e = first_failure(run))
        return fmt::format("fails without a mutant: {}: {}", expectation_name(*e->expectation), e->check.summary);
      return "fails without a mutant";
  }
  return std::nullopt;
}

// Whether one run of a mutant decides it: true when the run killed it (or
// errored), false when the case passed. An installer that refuses the
// mutated rules kills it: a generator writing that text would ERROR every run.
bool judge(const CaseRun& run, const MutatedGenerator& generator, MutantResult& r) {
  r.killed_by = run.case_name;
  if (run.status == Status::Fail) {
    const ExpectationRun* e = first_failure(run);
    r.verdict = MutantResult::Verdict::Killed;
    r.expectation = e ? expectation_name(*e->expectation) : "";
    r.message = e ? e->check.summary : run.error;
  } else if (run.status == Status::Error && !generator.install_error().empty()) {
    r.verdict = MutantResult::Verdict::Killed;
    r.message = "install failed: " + generator.install_error();
  } else if (run.status != Status::Pass) {
    r.verdict = MutantResult::Verdict::Error;
    r.message = fmt::format("{}: {}", to_string(run.status), run.error);
  } else {
    r.killed_by.clear();
    r.verdict = MutantResult::Verdict::Survived;
    return false;
  }
  return true;
}

// Runs unmutated the tasks that have mutants; returns which passed.
std::vector<bool> run_baselines(const std::vector<Task>& tasks, const std::vector<Mutant>& mutants,
                                const MutateOptions& options, MutationResult& result) {
  std::vector<bool> wanted(tasks.size(), false);
  for (const auto& m : mutants)
    for (size_t t : m.tasks()) wanted[t] = true;
  std::vector<size_t> which;
  std::vector<Task> todo;
  for (size_t i = 0; i < tasks.size(); ++i)
    if (wanted[i]) {
      which.push_back(i);
      todo.push_back(tasks[i]);
    }
  RunOptions run = options.run;
  run.fail_fast = true;
  run.run_id += "-base";
  std::vector<CaseRun> runs = run_all(todo, run, options.jobs, [](const CaseRun&, size_t, size_t) {});
  std::vector<bool> passed(tasks.size(), false);
  for (size_t k = 0; k < runs.size(); ++k) {
    if (auto why = baseline_problem(runs[k])) result.unmeasured.push_back({runs[k].case_name, runs[k].generator, *why});
    else passed[which[k]] = true;
  }
  return passed;
}

// A mutant's sites in runs that passed unmutated; the others cannot judge it.
void keep_measured(Mutant& m, const std::vector<bool>& passed) {
  std::erase_if(m.sites, [&](const Mutant::Site& s) { return !passed[s.task]; });
}

const Unobservable* declaring(const std::vector<Unobservable>& declared, const Mutant& m, const Task& task) {
  for (const auto& d : declared)
    if (d.covers(m, task.generator.name(), task.generator.mode)) return &d;
  return nullptr;
}

// The mutant against each run it appears in until one fails it. Returns false
// when interrupted (nothing decided).
bool run_mutant(const std::vector<Task>& tasks, const std::vector<std::unique_ptr<Generator>>& generators,
                const MutateOptions& options, const std::string& run_id, MutantResult& r) {
  int edits = 0;
  for (size_t t : r.mutant.tasks()) {
    MutatedGenerator generator(*generators[t], r.mutant);
    RunOptions run = options.run;
    run.fail_fast = true;
    run.selected = tasks[t].expectations;
    run.run_id = fmt::format("{}-{}", run_id, t + 1);
    CaseRun case_run = run_case(*tasks[t].c, generator, run);
    if (options.run.stop && options.run.stop->load()) return false;  // a run cut short proves nothing
    edits += generator.edits();
    if (judge(case_run, generator, r)) return true;
  }
  if (edits == 0) {
    r.verdict = MutantResult::Verdict::Error;
    r.message = "the mutated rule was never generated in its runs (is the generator's output deterministic?)";
  }
  return true;
}

}  // namespace

MutationResult mutate(const std::vector<Task>& tasks, const std::vector<Unobservable>& declared,
                      const MutateOptions& options, const std::function<void(size_t)>& started,
                      const std::function<void(const MutantResult&, size_t, size_t)>& done) {
  MutationResult result;
  std::vector<Mutant> mutants = plan_all_mutants(tasks, &result.unmeasured);
  if (options.max_mutants > 0 && mutants.size() > options.max_mutants) mutants.resize(options.max_mutants);
  std::vector<std::unique_ptr<Generator>> generators;
  for (const auto& t : tasks) generators.push_back(make_generator(t.generator));
  std::vector<bool> passed = run_baselines(tasks, mutants, options, result);

  std::vector<std::optional<MutantResult>> results;
  std::vector<size_t> to_run;
  for (auto& m : mutants) {
    keep_measured(m, passed);
    if (m.sites.empty()) continue;
    const Task& task = tasks[m.sites.front().task];
    std::string where = describe_sites(m, tasks);
    MutantResult r{std::move(m), task.generator.name(), std::move(where)};
    r.declared = declaring(declared, r.mutant, task);
    if (r.declared) r.verdict = MutantResult::Verdict::Unobservable;
    else to_run.push_back(results.size());
    results.push_back(std::move(r));
  }
  started(to_run.size());

  std::mutex mu;
  size_t finished = 0;
  std::vector<bool> decided(results.size(), false);
  parallel_for(to_run.size(), options.jobs, options.run.stop, [&](size_t k) {
    MutantResult& r = *results[to_run[k]];
    if (!run_mutant(tasks, generators, options, fmt::format("{}-m{}", options.run.run_id, k + 1), r)) return;
    std::lock_guard lock(mu);
    decided[to_run[k]] = true;
    done(r, ++finished, to_run.size());
  });
  result.interrupted = options.run.stop && options.run.stop->load();
  for (size_t i : to_run)
    if (!decided[i]) results[i].reset();  // interrupted: not run, or cut short
  for (auto& r : results)
    if (r) result.mutants.push_back(std::move(*r));
  return result;
}

}  // namespace harness
