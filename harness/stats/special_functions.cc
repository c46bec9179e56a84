#include "harness/stats/special_functions.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/non_central_chi_squared.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "base/error.h"

namespace harness::stats {
namespace {

namespace policies = boost::math::policies;

// Bad arguments throw (turned into kpath::Error by guarded()); nothing sets
// errno; results past the double range saturate instead of throwing: a tail
// below DBL_MIN is 0 (see the header), an overflow is infinity.
using Policy = policies::policy<
    policies::domain_error<policies::throw_on_error>, policies::pole_error<policies::throw_on_error>,
    policies::evaluation_error<policies::throw_on_error>, policies::rounding_error<policies::throw_on_error>,
    policies::overflow_error<policies::ignore_error>, policies::underflow_error<policies::ignore_error>,
    policies::denorm_error<policies::ignore_error>>;
using ChiSquared = boost::math::chi_squared_distribution<double, Policy>;
using NoncentralChiSquared = boost::math::non_central_chi_squared_distribution<double, Policy>;
using Binomial = boost::math::binomial_distribution<double, Policy>;

constexpr double kInf = std::numeric_limits<double>::infinity();

[[noreturn]] void rethrow(const char* what, const std::exception& e) {
  throw kpath::Error(fmt::format("{}: {}", what, e.what()));
}

// Runs a Boost.Math call; what the checks here let through (Boost's domain
// errors, a series that does not converge) becomes kpath::Error.
template <class F>
double guarded(const char* what, F&& f) {
  try {
    return f();
  } catch (const std::domain_error& e) {
    rethrow(what, e);
  } catch (const std::runtime_error& e) {  // boost::math::evaluation_error, rounding_error
    rethrow(what, e);
  }
}

void check_df(double df, const char* what) {
  if (!(df > 0 && std::isfinite(df)))
    throw kpath::Error(fmt::format("{}: degrees of freedom must be finite and > 0, got {}", what, df));
}

void check_probability(double p, const char* what) {
  if (!(p >= 0 && p <= 1)) throw kpath::Error(fmt::format("{}: probability must be in [0, 1], got {}", what, p));
}

// P(X >= x) for X on [0, inf) from `tail`, Boost's complement cdf, which
// refuses the ends: 1 at or below 0, 0 at infinity.
template <class Tail>
double survival_on_half_line(const char* what, double x, Tail&& tail) {
  if (std::isnan(x)) throw kpath::Error(fmt::format("{}: x is not a number", what));
  if (x <= 0) return 1;
  if (x == kInf) return 0;
  return guarded(what, [&] { return tail(x); });
}

// ln P(X = k), only compared, never summed: lgamma's rounding (1e-16 of
// lgamma(n + 1), so 1e-10 at n = 1e5) is far inside the 1e-7 tie tolerance.
double log_binomial_pmf(uint64_t n, uint64_t k, double p) {
  const double dn = double(n), dk = double(k);
  return boost::math::lgamma(dn + 1, Policy()) - boost::math::lgamma(dk + 1, Policy()) -
         boost::math::lgamma(dn - dk + 1, Policy()) + dk * std::log(p) + (dn - dk) * std::log1p(-p);
}

}  // namespace

double chi_square_sf(double x, double df) {
  check_df(df, "chi-square");
  return survival_on_half_line("chi-square", x, [&](double at) {
    return boost::math::cdf(boost::math::complement(ChiSquared(df), at));
  });
}

double chi_square_isf(double p, double df) {
  check_df(df, "chi-square quantile");
  if (!(p > 0 && p < 1)) throw kpath::Error(fmt::format("chi-square quantile: need 0 < p < 1, got {}", p));
  return guarded("chi-square quantile",
                 [&] { return boost::math::quantile(boost::math::complement(ChiSquared(df), p)); });
}

double noncentral_chi_square_sf(double x, double df, double lambda) {
  check_df(df, "noncentral chi-square");
  if (!(lambda >= 0 && std::isfinite(lambda)))
    throw kpath::Error(fmt::format("noncentral chi-square: need a finite lambda >= 0, got {}", lambda));
  return survival_on_half_line("noncentral chi-square", x, [&](double at) {
    return boost::math::cdf(boost::math::complement(NoncentralChiSquared(df, lambda), at));
  });
}

double binomial_pmf(uint64_t n, uint64_t k, double p) {
  check_probability(p, "binomial");
  if (k > n) return 0;
  return guarded("binomial", [&] { return boost::math::pdf(Binomial(double(n), p), double(k)); });
}

double binomial_two_sided_p(uint64_t n, uint64_t k, double p) {
  check_probability(p, "binomial test");
  if (k > n) throw kpath::Error(fmt::format("binomial test: k={} exceeds n={}", k, n));
  if (p == 0 || p == 1) {
    // One certain outcome: seeing it has p-value 1; anything else was impossible.
    const uint64_t certain = p == 0 ? 0 : n;
    return k == certain ? 1 : 0;
  }
  auto lpmf = [&](uint64_t j) { return log_binomial_pmf(n, j, p); };
  // The pmf rises up to the mode and falls after it (it is log-concave), so
  // the outcomes no more likely than k are two tails, {0..lower} and
  // {upper..n}; find their ends by bisection and let Boost sum them.
  const uint64_t mode = std::min<uint64_t>(n, uint64_t(std::floor((double(n) + 1) * p)));
  const double threshold = lpmf(k) + 1e-7;  // ln(pmf(k) * (1 + 1e-7)), R's tie tolerance
  if (lpmf(mode) <= threshold) return 1;

  const Binomial binomial(double(n), p);
  double total = 0;
  if (lpmf(0) <= threshold) {
    uint64_t lo = 0, hi = mode;  // lpmf(lo) <= threshold < lpmf(hi)
    while (hi - lo > 1) {
      uint64_t mid = lo + (hi - lo) / 2;
      (lpmf(mid) <= threshold ? lo : hi) = mid;
    }
    total += guarded("binomial test", [&] { return boost::math::cdf(binomial, double(lo)); });
  }
  if (lpmf(n) <= threshold) {
    uint64_t lo = mode, hi = n;  // lpmf(lo) > threshold >= lpmf(hi)
    while (hi - lo > 1) {
      uint64_t mid = lo + (hi - lo) / 2;
      (lpmf(mid) <= threshold ? hi : lo) = mid;
    }
    // P(X >= hi) = P(X > hi - 1); hi > mode >= 0.
    total += guarded("binomial test",
                     [&] { return boost::math::cdf(boost::math::complement(binomial, double(hi - 1))); });
  }
  return std::min(1.0, total);
}

}  // namespace harness::stats
