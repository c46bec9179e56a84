// Runs many (case, generator) pairs on a pool of threads, in a stable order.
#pragma once

#include <functional>
#include <vector>

#include "harness/run/runner.h"

namespace harness {

// One run to make: a case against one generator.
struct Task {
  const Case* c = nullptr;
  GeneratorSpec generator;
};

// Every case against each generator it runs against, in case order.
std::vector<Task> plan(const std::vector<Case>& cases, const RunOptions& options);

// Runs the tasks on `jobs` threads and returns one run per task, in task
// order; `done(run, finished, total)` is called, one call at a time, as each
// run ends. No task starts after *options.stop is set: those come back as
// skipped runs with the reason "interrupted", every expectation listed.
std::vector<CaseRun> run_all(const std::vector<Task>& tasks, const RunOptions& options, int jobs,
                             const std::function<void(const CaseRun&, size_t, size_t)>& done);

}  // namespace harness
