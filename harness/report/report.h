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

struct Report {
  std::vector<LoadError> load_errors;
  std::vector<CaseRun> runs;
  bool interrupted = false;

  bool all_passed() const;
  uint64_t probes() const;
};

std::string progress_line(const CaseRun& run, size_t index, size_t total);
// The table of every expectation run, then details of failures and errors.
std::string summary(const Report& report);
std::string junit_xml(const Report& report);
// Per run: how many generated rules were hit, and the ones never hit.
std::string coverage_report(const Report& report);
void write_file(const std::string& path, const std::string& text);

}  // namespace harness
