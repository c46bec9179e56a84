// The distribution functions behind the checks: Boost.Math's, under one error
// policy, plus the two-sided exact binomial test Boost does not have. Invalid
// arguments throw kpath::Error.
//
// p-values are plain doubles: below DBL_MIN (2.2e-308) they come out as 0 (or
// a denormal). No caller needs more: a verdict compares p with an alpha in
// (0, 0.01], verdict/check.cc reports p as a double, and the failure message
// names the counts, which say how far off a split is better than p = 1e-800
// would. Keeping logs there would mean hand-written incomplete gamma and beta
// functions again (Boost 1.74 has no log-space ones).
#pragma once

#include <cstdint>

namespace harness::stats {

// Chi-square survival P(X >= x) with df > 0 degrees of freedom; 1 for x <= 0.
double chi_square_sf(double x, double df);
// The x with chi_square_sf(x, df) == p, 0 < p < 1.
double chi_square_isf(double p, double df);
// Survival P(X >= x) of the noncentral chi-square, noncentrality lambda >= 0.
double noncentral_chi_square_sf(double x, double df, double lambda);

// P(X = k) for X ~ Binomial(n, p), 0 <= p <= 1.
double binomial_pmf(uint64_t n, uint64_t k, double p);
// Two-sided exact binomial test, k <= n: the total probability of the
// outcomes no more likely than k, with a 1e-7 relative tolerance for ties
// (as R's binom.test).
double binomial_two_sided_p(uint64_t n, uint64_t k, double p);

}  // namespace harness::stats
