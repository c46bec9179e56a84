// Plans and runs many (case, generator) pairs: selection (--focus, --skip),
// sharding across machines, and a pool of threads, in a stable order.
#pragma once

#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "harness/run/runner.h"

namespace harness {

// One run to make: a case against one generator, probing the selected
// expectations (the others only apply their endpoint changes).
struct Task {
  const Case* c = nullptr;
  GeneratorSpec generator;
  std::vector<const Expectation*> expectations;  // selected, in case order
};

// The expectation's name, or "FROM -> TO PROTO" when it has none.
std::string expectation_name(const Expectation& e);

// What `--list` prints for an expectation of a task, and what --focus and
// --skip match: "CASE<TAB>GENERATOR<TAB>EXPECTATION".
std::string list_line(const Task& task, const Expectation& e);

// Part i of n (0 <= i < n). The unit is a run (a case against a generator):
// a case's expectations depend on each other through endpoint changes, so a
// run never splits. Runs go round-robin over the shards, in plan order.
struct Shard {
  int index = 0;
  int count = 1;

  // "I/N"; throws kpath::Error otherwise.
  static Shard parse(const std::string& text);
  // GoogleTest's GTEST_SHARD_INDEX and GTEST_TOTAL_SHARDS, when both are set
  // (and GTEST_SHARD_STATUS_FILE touched, as a sharding-aware runner does).
  static std::optional<Shard> from_environment();
};

struct Selection {
  std::optional<std::regex> focus;  // keep expectations whose list line matches (search)
  std::optional<std::regex> skip;   // then drop those whose list line matches
  Shard shard;

  // Throws kpath::Error for a bad regular expression.
  static std::optional<std::regex> pattern(const std::string& text, const char* flag);
};

// Every case against each generator it runs against, in case order, with
// the selected expectations; runs with none are left out, then the shard's
// runs kept.
std::vector<Task> plan(const std::vector<Case>& cases, const RunOptions& options, const Selection& selection = {});

// Runs the tasks on `jobs` threads and returns one run per task, in task
// order; `done(run, finished, total)` is called, one call at a time, as each
// run ends. No task starts after *options.stop is set: those come back as
// skipped runs with the reason "interrupted", every expectation listed.
std::vector<CaseRun> run_all(const std::vector<Task>& tasks, const RunOptions& options, int jobs,
                             const std::function<void(const CaseRun&, size_t, size_t)>& done);

}  // namespace harness
