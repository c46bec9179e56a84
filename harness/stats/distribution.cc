#include "harness/stats/distribution.h"

#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>

#include "harness/stats/special_functions.h"
#include "base/error.h"

namespace harness::stats {
namespace {

// Weights normalized to probabilities; rejects what no distribution can be.
std::vector<double> probabilities(const std::vector<double>& weights) {
  if (weights.empty()) throw kpath::Error("distribution check: no categories");
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0) || !std::isfinite(w))
      throw kpath::Error(fmt::format("distribution check: weight {} is not a finite number >= 0", w));
    total += w;
  }
  if (!(total > 0)) throw kpath::Error("distribution check: all weights are 0");
  std::vector<double> p(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) p[i] = weights[i] / total;
  return p;
}

void check_rate(double x, const char* what) {
  if (!(x > 0 && x < 1)) throw kpath::Error(fmt::format("distribution check: {} must be in (0, 1), got {}", what, x));
}

// A p-value for a message; below DBL_MIN it has underflowed (special_functions.h).
std::string format_p(double p) { return p >= DBL_MIN ? fmt::format("p={:.3g}", p) : fmt::format("p<{:.2g}", DBL_MIN); }

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

DistributionCheck check_distribution(const std::vector<std::string>& names, const std::vector<double>& weights,
                                     const std::vector<uint64_t>& observed, double alpha) {
  if (names.size() != weights.size() || names.size() != observed.size())
    throw kpath::Error(fmt::format("distribution check: {} names, {} weights and {} observed counts do not line up",
                                   names.size(), weights.size(), observed.size()));
  check_rate(alpha, "alpha");
  const std::vector<double> p = probabilities(weights);

  DistributionCheck r;
  r.alpha = alpha;
  const uint64_t total = std::accumulate(observed.begin(), observed.end(), uint64_t{0});
  r.expected.resize(p.size());
  for (size_t i = 0; i < p.size(); ++i) r.expected[i] = double(total) * p[i];

  // Only categories with weight > 0 take part in the test: a weight-0 category
  // has expected count 0, and any probe it got is a failure on its own.
  std::vector<size_t> active;
  uint64_t n = 0;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] > 0) {
      active.push_back(i);
      n += observed[i];
    }

  r.p_value = 1;
  if (active.size() == 1) {
    r.test = "none (one category with weight > 0)";
  } else if (active.size() == 2) {
    r.test = "exact binomial";
    // p[a] + p[b] == 1 since the other categories have weight 0.
    r.p_value = binomial_two_sided_p(n, observed[active[0]], p[active[0]]);
  } else {
    const size_t df = active.size() - 1;
    bool small = false;
    double chi2 = 0;
    for (size_t i : active) {
      double e = double(n) * p[i], d = double(observed[i]) - e;
      small |= e < 5;
      if (e > 0) chi2 += d * d / e;
    }
    r.test = fmt::format("chi-square ({} df{})", df, small ? "; small expected counts" : "");
    r.p_value = n == 0 ? 1 : chi_square_sf(chi2, double(df));
  }
  r.pass = r.p_value >= alpha;

  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] == 0 && observed[i] > 0) {
      r.pass = false;
      r.p_value = 0;
      r.reason = fmt::format("{} was not expected but got {} probe{}", names[i], observed[i],
                             observed[i] == 1 ? "" : "s");
      return r;
    }

  // An empty category is its own verdict once (1 - p_i)^n < alpha, i.e. once
  // that alone is implausible; it is also the clearest reason when the test
  // has already failed.
  std::vector<std::string> empty;
  bool empty_implausible = false;
  for (size_t i : active)
    if (observed[i] == 0) {
      empty.push_back(names[i]);
      empty_implausible |= double(n) * std::log1p(-p[i]) < std::log(alpha);
    }
  if (!empty.empty() && (empty_implausible || !r.pass)) {
    r.pass = false;
    r.reason = join_names(empty) + " got no probe";
    return r;
  }

  if (!r.pass) {
    // Name the category furthest from its share, in standard deviations.
    size_t worst = active[0];
    double worst_z = -1;
    for (size_t i : active) {
      double e = double(n) * p[i];
      double z = std::fabs(double(observed[i]) - e) / std::sqrt(e * (1 - p[i]));
      if (z > worst_z) worst_z = z, worst = i;
    }
    r.reason = fmt::format("{} got {} of {} probes where {:.1f} were expected ({} {} < alpha={:.3g})", names[worst],
                           observed[worst], n, double(n) * p[worst], r.test, format_p(r.p_value), alpha);
  }
  return r;
}

uint64_t probes_needed(const std::vector<double>& weights, double alpha, double power, double skew) {
  const std::vector<double> p = probabilities(weights);
  check_rate(alpha, "alpha");
  check_rate(power, "power");
  if (!(power > alpha))
    throw kpath::Error(
        fmt::format("probes_needed: power {} must exceed alpha {} (a test at alpha rejects that often by chance)",
                    power, alpha));
  const size_t k = size_t(std::count_if(p.begin(), p.end(), [](double x) { return x > 0; }));
  if (k < 2) throw kpath::Error("probes_needed: needs two or more categories with weight > 0");
  const double p_max = *std::max_element(p.begin(), p.end());
  // The shift must be possible at least one way: up to 1 or down to 0.
  if (!(skew > 0 && skew <= std::max(p_max, 1 - p_max)))
    throw kpath::Error(
        fmt::format("probes_needed: skew {} is not a possible shift of a category with probability {:.3g}", skew,
                    p_max));

  // Noncentrality per probe: Σ (q_i - p_i)^2 / p_i with q_max = p_max ± skew
  // and the others scaled by (1 - q_max) / (1 - p_max), which sums to this.
  const double per_probe = skew * skew / (p_max * (1 - p_max));
  const double df = double(k - 1);
  const double critical = chi_square_isf(alpha, df);
  // Power grows with the noncentrality; bracket it, then bisect.
  double lo = 0, hi = 1;
  while (noncentral_chi_square_sf(critical, df, hi) < power) lo = hi, hi *= 2;
  for (int i = 0; i < 100 && hi - lo > 1e-9 * hi; ++i) {
    double mid = lo + (hi - lo) / 2;
    (noncentral_chi_square_sf(critical, df, mid) < power ? lo : hi) = mid;
  }
  return std::max<uint64_t>(1, uint64_t(std::ceil(hi / per_probe)));
}

double combined_false_failure_rate(const std::vector<double>& alphas) {
  // 1 - Π(1 - a) through logs: stays exact for many tiny alphas.
  double log_all_pass = 0;
  for (double a : alphas) {
    if (!(a >= 0 && a <= 1))
      throw kpath::Error(fmt::format("combined_false_failure_rate: alpha {} is not in [0, 1]", a));
    log_all_pass += std::log1p(-a);
  }
  return -std::expm1(log_all_pass);
}

}  // namespace harness::stats
