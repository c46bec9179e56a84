// Reporting like a CI tool: a progress line per run, a summary table, failure
// details with expected-vs-observed tables, and JUnit XML.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "harness/host/doctor.h"
#include "harness/run/runner.h"
#include "harness/run/scheduler.h"

namespace harness {

// A case file that could not be loaded: it runs nothing and reports an ERROR.
struct LoadError {
  std::string file;
  std::string message;
};

// kpath run's exit status; README and --help list the same.
enum ExitStatus : int {
  kExitPassed = 0,       // every expectation of every run held
  kExitFailed = 1,       // an expectation failed
  kExitBadInput = 2,     // a case file, a spec or the command line is wrong
  kExitEnvironment = 3,  // a generator, an installer or the machine failed (an ERROR run)
  kExitNothingRan = 4,   // no run passed (all skipped, or nothing to run), or a skip under CI
  // Interrupted: 128 + the signal (130 for SIGINT, 143 for SIGTERM).
};

// Where and when the suite ran, for the reports' headers and properties.
struct RunEnvironment {
  std::string kpath_version;  // "kpath 0.1.0 (commit 0123456789ab)"
  Fingerprint host;           // kernel, iptables and nft versions
  std::string hostname;
  std::chrono::system_clock::time_point started;
  std::chrono::microseconds elapsed{0};
};

// This machine now: hostname, fingerprint, the start time.
RunEnvironment describe_environment(const std::string& kpath_version);

struct Report {
  std::vector<LoadError> load_errors;
  // One per planned run, in plan order: a run that never started is a skip
  // with its reason ("interrupted").
  std::vector<CaseRun> runs;
  bool interrupted = false;
  RunEnvironment env;

  // The exit status for this report; `skips_fail`: a skipped run is no
  // success (CI=true without --allow-skip). Interruption is the caller's.
  ExitStatus exit_status(bool skips_fail = false) const;
  bool all_passed() const { return exit_status() == kExitPassed; }
  uint64_t probes() const;
};

// One expectation a run was to probe: its result, or why it has none.
struct PlannedExpectation {
  const Expectation* expectation = nullptr;
  const ExpectationRun* result = nullptr;  // nullptr: it did not run
  std::string not_run;                     // why, when it did not run
};
// Every planned expectation of the run, in order, the ones that ran with
// their results; the others say why ("interrupted", the skip's reason, the
// run's error).
std::vector<PlannedExpectation> planned_expectations(const CaseRun& run);

// `kpath run --list`: one line per selected expectation of every task.
std::string list_plan(const std::vector<Task>& tasks);

// progress_line, summary and coverage_report are text for a terminal: what
// came from outside in them (names, paths, rule text) is escaped.
std::string progress_line(const CaseRun& run, size_t index, size_t total);
// The table of every expectation run, then details of failures and errors.
// `verbose`: PASS rows also give the replies per backend.
std::string summary(const Report& report, bool verbose = false);
// Per run of a running proxy (proxy:): the convergence time of its start and
// of each endpoint change, and the logs kept under --artifacts.
std::string convergence_report(const Report& report);
// Per run: how many generated rules were hit, and the ones never hit.
std::string coverage_report(const Report& report);
void write_file(const std::string& path, const std::string& text);
// Throws kpath::Error when a report could not be written to path.
void check_writable(const std::string& path);

}  // namespace harness
