#include "harness/report/explain_stats.h"

#include <fmt/format.h>

#include "harness/verdict/check.h"
#include "harness/verdict/flow.h"
#include "harness/stats/distribution.h"

namespace harness {

namespace {

bool is_distribution(const Expectation& e) {
  return e.backends.kind == BackendExpectation::Kind::Uniform || e.backends.kind == BackendExpectation::Kind::Weighted;
}

// The categories the check compares: the eligible endpoints, or the weights.
int backend_count(const Cluster& cluster, const Expectation& e) {
  if (e.backends.kind == BackendExpectation::Kind::Weighted) {
    int n = 0;
    for (const auto& [pod, w] : e.backends.weights) n += w > 0;
    return n;
  }
  try {
    return static_cast<int>(resolve_flow(cluster, e).eligible.size());
  } catch (const std::exception&) {
    return 0;  // the run will report why
  }
}

// Mirrors harness/stats/distribution.h: two categories get the exact binomial test.
std::string test_name(int backends) {
  if (backends == 0) return "unknown";
  if (backends == 1) return "none (one backend)";
  if (backends == 2) return "exact binomial";
  return fmt::format("chi-square ({} df)", backends - 1);
}

std::string flake_interval(double rate) {
  if (!(rate > 0)) return "never";
  return fmt::format("about one false failure per {:.0f} suite runs", 1.0 / rate);
}

}  // namespace

std::vector<DistributionAssertion> distribution_assertions(const std::vector<Case>& cases, const RunOptions& options) {
  std::vector<DistributionAssertion> out;
  for (const auto& c : cases) {
    auto generators = generators_for(c, options);
    for (const auto& e : c.expect) {
      if (!is_distribution(e)) continue;
      DistributionAssertion a;
      a.case_name = c.name;
      a.expectation = e.name.empty() ? fmt::format("{} -> {}", e.from.str(), e.to.str()) : e.name;
      // A generator that refuses or drops this flow by design checks no distribution.
      for (const auto& g : generators) a.generators += expected_verdict(e, g.name(), g.mode) == Verdict::Reachable;
      a.probes = e.probes;
      a.backends = backend_count(c.cluster, e);
      a.false_failure_rate = e.false_failure_rate;
      out.push_back(std::move(a));
    }
  }
  return out;
}

double run_false_failure_rate(const std::vector<DistributionAssertion>& assertions) {
  std::vector<double> alphas;
  for (const auto& a : assertions) alphas.insert(alphas.end(), static_cast<size_t>(a.generators), a.false_failure_rate);
  return stats::combined_false_failure_rate(alphas);
}

std::string explain_stats(const std::vector<DistributionAssertion>& assertions) {
  std::string out =
      "Distribution assertions (each may fail by chance at its false-failure rate; see docs/statistics.md):\n";
  out += fmt::format("  {:<30} {:<56} {:>10} {:>6} {:>8} {:<18} {}\n", "CASE", "EXPECTATION", "GENERATORS", "PROBES",
                     "BACKENDS", "TEST", "FALSE-FAILURE RATE");
  int checks = 0;
  for (const auto& a : assertions) {
    out += fmt::format("  {:<30} {:<56} {:>10} {:>6} {:>8} {:<18} {:.3g}\n", a.case_name, a.expectation, a.generators,
                       a.probes, a.backends, test_name(a.backends), a.false_failure_rate);
    checks += a.generators;
  }
  double rate = run_false_failure_rate(assertions);
  out += fmt::format("Combined false-failure rate of this run: {:.3g} over {} distribution check(s): {}.\n", rate,
                     checks, flake_interval(rate));
  return out;
}

}  // namespace harness
