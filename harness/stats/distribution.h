// Statistical checks for backend distributions: does an observed count vector
// fit the expected weights, at a stated false-failure rate?
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace harness::stats {

struct DistributionCheck {
  bool pass = false;
  double p_value = 0;            // of the test that decided
  std::string test;              // "chi-square (k-1 df)" or "exact binomial"
  double alpha = 0;              // the false-failure rate the verdict was taken at
  std::vector<double> expected;  // expected count per category
  std::string reason;            // one sentence when !pass (e.g. "pod-b got no probe")
};

// names[i] has weight weights[i] (need not sum to 1) and was observed
// observed[i] times. Fails when p < alpha, or when a category with weight > 0
// got no observation while enough probes were sent that this alone is
// implausible at alpha. Two categories use the exact binomial test; more use
// Pearson's chi-square.
DistributionCheck check_distribution(const std::vector<std::string>& names, const std::vector<double>& weights,
                                     const std::vector<uint64_t>& observed, double alpha);

// Roughly how many probes a check at `alpha` needs to catch, with probability
// `power`, a distribution whose largest category is off by `skew` (absolute
// probability, e.g. 0.1) with the other categories absorbing the difference in
// proportion. Uses the large-sample theory of Pearson's test: the alternative
// makes the statistic noncentral chi-square with k-1 df and noncentrality
// N * skew^2 / (p_max (1 - p_max)) (the same for a shift up or down), solved
// for N. For two categories this matches the exact binomial test to a few
// percent; treat the answer as an estimate, not a guarantee.
uint64_t probes_needed(const std::vector<double>& weights, double alpha, double power, double skew);

// The chance that at least one of several independent checks fails falsely:
// 1 - prod(1 - alpha_i).
double combined_false_failure_rate(const std::vector<double>& alphas);

}  // namespace harness::stats
