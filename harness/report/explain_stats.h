// `kpath run --explain-stats`: before any traffic, the distribution assertions
// the loaded cases make and how often the whole run fails by chance alone.
#pragma once

#include <string>
#include <vector>

#include "harness/run/runner.h"
#include "harness/model/model.h"

namespace harness {

// One uniform or weighted backend expectation of a case.
struct DistributionAssertion {
  std::string case_name;
  std::string expectation;
  int generators = 0;  // runs that check it (generators expecting it reachable)
  int probes = 0;
  int backends = 0;  // categories with weight > 0; 0 when the flow cannot be resolved
  double false_failure_rate = 0;
};

std::vector<DistributionAssertion> distribution_assertions(const std::vector<Case>& cases, const RunOptions& options);

// Each assertion counts once per generator that checks it.
double run_false_failure_rate(const std::vector<DistributionAssertion>& assertions);

std::string explain_stats(const std::vector<DistributionAssertion>& assertions);

}  // namespace harness
