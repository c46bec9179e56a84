// Mutation testing of the suite against a generator (`kpath mutate`): every
// rule the generator writes for a case, taken out one at a time (and every
// probability or numgen split perturbed), must make that case fail. A mutant
// the case still passes is a behaviour the suite does not look at.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "harness/generators/generator.h"
#include "harness/run/scheduler.h"

namespace harness {

// One deliberate mistake in a generator's output: a rule it never writes, or
// writes with another value. The same text written on several nodes or in
// several cases comes from the same code, so it is one mutant, taken out
// everywhere at once and killed when any of those cases fails.
struct Mutant {
  enum class Change { Removed, Perturbed };
  // A run and a node whose rules hold the line.
  struct Site {
    size_t task = 0;  // the run (case x generator), an index into the tasks
    std::string node;
    bool operator==(const Site&) const = default;
  };

  Change change = Change::Removed;
  // What is shown and matched against the declared list: the rule (an
  // iptables -A line, an nft rule, an `add element` of one element).
  std::string rule;
  // The edit: every generated line equal to `line` becomes `replacement`, or
  // goes when there is none.
  std::string line;
  std::optional<std::string> replacement;
  std::vector<Site> sites;  // in plan order
  // The edit applies to the ip6tables-restore text (RuleSet::text6): kube-proxy
  // writes many rules alike for both families (its masquerade, for one), and
  // each family's may be missing on its own. nft rules name their family.
  bool ipv6 = false;

  // "removed: RULE" or "perturbed: RULE -> NEW"; "removed (ip6tables): RULE" for text6's
  std::string describe() const;
  // The runs it appears in, each once, in plan order.
  std::vector<size_t> tasks() const;
};

// The mutants of one node's rules, in text order (the IPv4 text, then the
// ip6tables text): each rule and element removed, each `--probability P`
// halved, each `numgen random mod N` vmap given a slot more for its last
// element (N+1 slots, the last two its). Nothing for rules a generator
// installs itself.
std::vector<Mutant> mutants_of(const RuleSet& rules, const std::string& node);

// The same generator with one mutant applied to whatever it writes, on every
// node, at the first install and at every re-apply. It keeps the
// generator's name and mode, so `except:` entries and kube-proxy's conntrack
// cleanup apply as to the real one.
class MutatedGenerator : public Generator {
 public:
  MutatedGenerator(const Generator& base, Mutant mutant) : base_(base), mutant_(std::move(mutant)) {}

  std::string name() const override { return base_.name(); }
  ProxyMode mode() const override { return base_.mode(); }
  std::vector<std::string> needs(const Cluster& c) const override { return base_.needs(c); }
  bool needs_conntrack_cleanup() const override { return base_.needs_conntrack_cleanup(); }
  RuleSet generate(const Cluster& cluster, const std::string& node) const override;
  // Remembers an installer's refusal of the mutated rules (install_error()).
  Applied apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns, RuleSet rules,
                const ApplyOptions& options) const override;

  // How many generated texts the edit changed; 0 means it matched nothing.
  int edits() const { return edits_; }
  const std::string& install_error() const { return install_error_; }

 private:
  const Generator& base_;
  Mutant mutant_;
  mutable std::atomic<int> edits_{0};
  mutable std::string install_error_;  // written by the run's one thread
};

// A declared unobservable mutant (the checked-in list): the rules it covers
// and why no kernel-visible behaviour can reveal their loss.
struct Unobservable {
  std::string generator;                 // a generator name (GeneratorSpec::name); empty: any
  std::optional<ProxyMode> mode;         // or the mode the generator implements
  std::optional<Mutant::Change> change;  // only removals, or only perturbations
  std::optional<bool> ipv6;              // only one family's rules (ip6tables text, nft `ip6` tables)
  std::string pattern;                   // ECMAScript, searched in Mutant::rule
  std::regex rule;
  std::string reason;
  std::string where;  // "FILE:LINE", for the report

  bool covers(const Mutant& m, const std::string& generator_name, ProxyMode generator_mode) const;
};

struct MutantResult {
  enum class Verdict { Killed, Survived, Unobservable, Error };

  Mutant mutant;
  std::string generator;
  std::string where;  // describe_sites(): the cases and nodes it appears in
  Verdict verdict = Verdict::Survived;
  std::string killed_by;                   // Killed: the case that failed (or whose install failed)
  std::string expectation;                 // Killed: the expectation that failed first
  std::string message;                     // Killed: its summary or "install failed: ..."; Error: the run's error
  const Unobservable* declared = nullptr;  // Unobservable: the entry
};

// A run that could not be mutated: its unmutated baseline did not pass, or
// its rules could not be generated.
struct UnmeasuredRun {
  std::string case_name;
  std::string generator;
  std::string why;
};

struct MutationResult {
  std::vector<MutantResult> mutants;  // in plan order
  std::vector<UnmeasuredRun> unmeasured;
  bool interrupted = false;

  size_t count(MutantResult::Verdict v) const;
};

struct MutateOptions {
  RunOptions run;  // install, stop, features; fail_fast and selected are set per run
  int jobs = 1;
  size_t max_mutants = 0;  // 0: all
};

// The mutants of one run: its case's states (the start, then after each
// expectation's before:/during: changes) generated for every node, each
// distinct edit once with the nodes it appears on. Throws kpath::Error when
// generation fails.
std::vector<Mutant> plan_mutants(const Task& task, size_t task_index, const Generator& generator);

// The mutants of every run, the same edit by the same generator merged into
// one with all its sites. Runs whose rules cannot be generated are skipped
// and named in `unmeasured` (when given).
std::vector<Mutant> plan_all_mutants(const std::vector<Task>& tasks, std::vector<UnmeasuredRun>* unmeasured = nullptr);

// "case@node, case@node2, case2@node" for a mutant's sites.
std::string describe_sites(const Mutant& m, const std::vector<Task>& tasks);

// Runs every task with mutants once unmutated (a run that does not pass cannot
// judge mutants), then each mutant not declared unobservable against the
// passing runs it appears in, one after another until one fails (each run
// stopping at its first failing expectation); mutants on `jobs` threads.
// `started(total)` is called once the mutants are known, `done(result, i,
// total)` one call at a time as each finishes.
MutationResult mutate(const std::vector<Task>& tasks, const std::vector<Unobservable>& declared,
                      const MutateOptions& options, const std::function<void(size_t)>& started,
                      const std::function<void(const MutantResult&, size_t, size_t)>& done);

}  // namespace harness
