// Special functions behind the distribution checks, written here so the
// harness needs no math library. Tail probabilities come in log space too:
// an assertion's p-value can be far below DBL_MIN (1e-308) and still be
// worth printing as an exponent.
#pragma once

#include <cstdint>

namespace harness::stats {

// Regularized incomplete gamma functions for a > 0, x >= 0:
// P(a,x) = γ(a,x)/Γ(a), Q(a,x) = 1 - P(a,x). Series for x < a+1, Lentz's
// continued fraction otherwise, each evaluated where it converges fast and
// loses no relative precision in the small side.
double log_gamma_p(double a, double x);
double log_gamma_q(double a, double x);
double gamma_p(double a, double x);
double gamma_q(double a, double x);

// Chi-square survival function P(X >= x) with df > 0 degrees of freedom.
double log_chi_square_sf(double x, double df);
double chi_square_sf(double x, double df);
// The x with chi_square_sf(x, df) == p, 0 < p < 1 (bisection in log space).
double chi_square_isf(double p, double df);
// Survival of the noncentral chi-square with noncentrality lambda >= 0,
// as the Poisson(lambda/2) mixture of central chi-squares with df + 2j.
double noncentral_chi_square_sf(double x, double df, double lambda);

// ln P(X = k) for X ~ Binomial(n, p), 0 <= p <= 1.
double log_binomial_pmf(uint64_t n, uint64_t k, double p);
// Two-sided exact binomial test: ln of the total probability of outcomes no
// more likely than k (with a 1e-7 relative tolerance for ties, as R's
// binom.test does). Summed outward from the tails' largest terms, so the cost
// is about the tails' width, not n.
double log_binomial_two_sided_p(uint64_t n, uint64_t k, double p);
double binomial_two_sided_p(uint64_t n, uint64_t k, double p);

}  // namespace harness::stats
