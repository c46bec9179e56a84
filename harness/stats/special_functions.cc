#include "harness/stats/special_functions.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "base/error.h"

namespace harness::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = DBL_EPSILON;
constexpr double kTiny = 1e-300;  // keeps Lentz's divisions away from zero
// Both expansions need O(sqrt(a)) terms near x == a; this only stops a
// runaway on absurd inputs (a ~ 1e12).
constexpr int kMaxIterations = 10'000'000;

// ln(e^a + e^b) without overflow or underflow.
double log_add(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  double hi = std::max(a, b), lo = std::min(a, b);
  return hi + std::log1p(std::exp(lo - hi));
}

// ln(1 - e^l) for l <= 0, precise on both ends.
double log_one_minus_exp(double l) {
  if (l >= 0) return -kInf;
  return l > -M_LN2 ? std::log(-std::expm1(l)) : std::log1p(-std::exp(l));
}

struct LogPQ {
  double p, q;
};

LogPQ incomplete_gamma(double a, double x) {
  if (!(a > 0) || !std::isfinite(a) || !(x >= 0) || std::isnan(x))
    throw kpath::Error("incomplete gamma: need a > 0 and x >= 0 (a=" + std::to_string(a) +
                       ", x=" + std::to_string(x) + ")");
  if (x == 0) return {-kInf, 0};
  if (x == kInf) return {0, -kInf};
  // ln(x^a e^-x / Γ(a)), the prefactor shared by both expansions.
  const double log_prefix = a * std::log(x) - x - std::lgamma(a);
  if (x < a + 1) {
    // P(a,x) = prefix * Σ x^n / (a (a+1) ... (a+n)); positive terms, no cancellation.
    double ap = a, term = 1 / a, sum = term;
    for (int i = 0; i < kMaxIterations; ++i) {
      ap += 1;
      term *= x / ap;
      sum += term;
      if (term < sum * kEps) break;
    }
    double lp = std::min(0.0, log_prefix + std::log(sum));
    return {lp, log_one_minus_exp(lp)};
  }
  // Q(a,x) = prefix * 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...))), modified Lentz.
  double b = x + 1 - a, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i < kMaxIterations; ++i) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < kEps) break;
  }
  double lq = std::min(0.0, log_prefix + std::log(h));
  return {log_one_minus_exp(lq), lq};
}

void check_probability(double p, const char* what) {
  if (!(p >= 0 && p <= 1))
    throw kpath::Error(std::string(what) + ": probability must be in [0, 1], got " +
                       std::to_string(p));
}

}  // namespace

double log_gamma_p(double a, double x) { return incomplete_gamma(a, x).p; }
double log_gamma_q(double a, double x) { return incomplete_gamma(a, x).q; }
double gamma_p(double a, double x) { return std::exp(log_gamma_p(a, x)); }
double gamma_q(double a, double x) { return std::exp(log_gamma_q(a, x)); }

double log_chi_square_sf(double x, double df) {
  if (!(df > 0)) throw kpath::Error("chi-square: need df > 0, got " + std::to_string(df));
  if (x <= 0) return 0;
  return log_gamma_q(df / 2, x / 2);
}

double chi_square_sf(double x, double df) { return std::exp(log_chi_square_sf(x, df)); }

double chi_square_isf(double p, double df) {
  if (!(p > 0 && p < 1))
    throw kpath::Error("chi-square quantile: need 0 < p < 1, got " + std::to_string(p));
  const double target = std::log(p);
  double lo = 0, hi = std::max(1.0, df);
  while (log_chi_square_sf(hi, df) > target) {
    lo = hi;
    hi *= 2;
  }
  // The survival function is monotone; 200 halvings reach the double grid.
  for (int i = 0; i < 200 && hi - lo > 1e-14 * hi; ++i) {
    double mid = lo + (hi - lo) / 2;
    (log_chi_square_sf(mid, df) > target ? lo : hi) = mid;
  }
  return lo + (hi - lo) / 2;
}

double noncentral_chi_square_sf(double x, double df, double lambda) {
  if (!(lambda >= 0))
    throw kpath::Error("noncentral chi-square: need lambda >= 0, got " + std::to_string(lambda));
  if (lambda == 0) return chi_square_sf(x, df);
  // Poisson(mu) weights beyond mu ± (10 sd + 30) carry < 1e-20 of the mass.
  const double mu = lambda / 2, width = 10 * std::sqrt(mu) + 30;
  const double j_lo = std::max(0.0, std::floor(mu - width)), j_hi = std::ceil(mu + width);
  double sum = 0;
  for (double j = j_lo; j <= j_hi; ++j) {
    double log_weight = -mu + j * std::log(mu) - std::lgamma(j + 1);
    sum += std::exp(log_weight + log_chi_square_sf(x, df + 2 * j));
  }
  return std::clamp(sum, 0.0, 1.0);
}

double log_binomial_pmf(uint64_t n, uint64_t k, double p) {
  check_probability(p, "binomial");
  if (k > n) return -kInf;
  if (p == 0) return k == 0 ? 0 : -kInf;
  if (p == 1) return k == n ? 0 : -kInf;
  const double dn = double(n), dk = double(k);
  return std::lgamma(dn + 1) - std::lgamma(dk + 1) - std::lgamma(dn - dk + 1) +
         dk * std::log(p) + (dn - dk) * std::log1p(-p);
}

double log_binomial_two_sided_p(uint64_t n, uint64_t k, double p) {
  check_probability(p, "binomial test");
  if (k > n)
    throw kpath::Error("binomial test: k=" + std::to_string(k) + " exceeds n=" + std::to_string(n));
  if (p == 0 || p == 1) {
    // One certain outcome: seeing it has p-value 1; anything else was impossible.
    uint64_t certain = p == 0 ? 0 : n;
    return k == certain ? 0 : -kInf;
  }
  auto lpmf = [&](uint64_t j) { return log_binomial_pmf(n, j, p); };
  // The pmf rises up to the mode and falls after it (it is log-concave).
  const uint64_t mode = std::min<uint64_t>(n, uint64_t(std::floor((double(n) + 1) * p)));
  const double threshold = lpmf(k) + 1e-7;  // ln(d * (1 + 1e-7)), R's tie tolerance
  if (lpmf(mode) <= threshold) return 0;

  const double log_odds = std::log(p) - std::log1p(-p);
  double log_total = -kInf;

  // Lower region {0..lower_end}: the largest j below the mode that is no more
  // likely than k, found by bisection on the rising side.
  if (lpmf(0) <= threshold) {
    uint64_t lo = 0, hi = mode;  // lpmf(lo) <= threshold < lpmf(hi)
    while (hi - lo > 1) {
      uint64_t mid = lo + (hi - lo) / 2;
      (lpmf(mid) <= threshold ? lo : hi) = mid;
    }
    // Sum outward from the largest term; consecutive ratios r only shrink
    // outward, so the rest is below next/(1-r) and we stop once that is
    // negligible.
    const double l0 = lpmf(lo);
    double l = l0, sum = 0;
    for (uint64_t j = lo;; --j) {
      sum += std::exp(l - l0);
      if (j == 0) break;
      double next = l + std::log(double(j)) - std::log(double(n - j + 1)) - log_odds;
      double r = std::exp(next - l);
      l = next;
      if (r < 1 && std::exp(next - l0) / (1 - r) < sum * 1e-17) break;
    }
    log_total = log_add(log_total, l0 + std::log(sum));
  }
  // Upper region {upper_start..n}, mirrored.
  if (lpmf(n) <= threshold) {
    uint64_t lo = mode, hi = n;  // lpmf(lo) > threshold >= lpmf(hi)
    while (hi - lo > 1) {
      uint64_t mid = lo + (hi - lo) / 2;
      (lpmf(mid) <= threshold ? hi : lo) = mid;
    }
    const double l0 = lpmf(hi);
    double l = l0, sum = 0;
    for (uint64_t j = hi;; ++j) {
      sum += std::exp(l - l0);
      if (j == n) break;
      double next = l + std::log(double(n - j)) - std::log(double(j + 1)) + log_odds;
      double r = std::exp(next - l);
      l = next;
      if (r < 1 && std::exp(next - l0) / (1 - r) < sum * 1e-17) break;
    }
    log_total = log_add(log_total, l0 + std::log(sum));
  }
  return std::min(0.0, log_total);
}

double binomial_two_sided_p(uint64_t n, uint64_t k, double p) {
  return std::exp(log_binomial_two_sided_p(n, k, p));
}

}  // namespace harness::stats
