// Reporting like a CI tool: a progress line per run, a summary table, failure
// details with expected-vs-observed tables, and JUnit XML.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "harness/run/runner.h"

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

struct Report {
  std::vector<LoadError> load_errors;
  std::vector<CaseRun> runs;
  bool interrupted = false;

  // The exit status for this report; `skips_fail`: a skipped run is no
  // success (CI=true without --allow-skip). Interruption is the caller's.
  ExitStatus exit_status(bool skips_fail = false) const;
  bool all_passed() const { return exit_status() == kExitPassed; }
  uint64_t probes() const;
};

std::string progress_line(const CaseRun& run, size_t index, size_t total);
// The table of every expectation run, then details of failures and errors.
std::string summary(const Report& report);
std::string junit_xml(const Report& report);
// Per run: how many generated rules were hit, and the ones never hit.
std::string coverage_report(const Report& report);
void write_file(const std::string& path, const std::string& text);
// Throws kpath::Error when a report could not be written to path.
void check_writable(const std::string& path);

}  // namespace harness
