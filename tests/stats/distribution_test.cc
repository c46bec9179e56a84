#include "harness/stats/distribution.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <random>

#include "harness/stats/special_functions.h"
#include "base/error.h"

namespace harness::stats {
namespace {

using ::testing::HasSubstr;

// Reference values below come from mpmath (40 digits) and, for the binomial
// tails, exact integer sums of C(n, j).

TEST(Distribution, FairTwoWaySplitPasses) {
  auto r = check_distribution({"pod-a", "pod-b"}, {1, 1}, {1000, 1000}, 1e-6);
  EXPECT_TRUE(r.pass) << r.reason;
  EXPECT_EQ(r.test, "exact binomial");
  EXPECT_DOUBLE_EQ(r.p_value, 1.0);
  EXPECT_EQ(r.alpha, 1e-6);
  EXPECT_THAT(r.expected, ::testing::ElementsAre(1000.0, 1000.0));
  EXPECT_TRUE(r.reason.empty());
}

TEST(Distribution, SkewedTwoWaySplitFails) {
  auto r = check_distribution({"pod-a", "pod-b"}, {1, 1}, {1200, 800}, 1e-6);
  EXPECT_FALSE(r.pass);
  // 2 * Σ_{j>=1200} C(2000, j) / 2^2000 = 3.5050062e-19.
  EXPECT_GT(r.p_value, 1e-19);
  EXPECT_LT(r.p_value, 1e-18);
  EXPECT_NEAR(r.p_value / 3.5050062069356454e-19, 1, 1e-9);
  EXPECT_THAT(r.reason, HasSubstr("pod-a got 1200 of 2000 probes"));
  EXPECT_THAT(r.reason, HasSubstr("exact binomial p=3.51e-19 < alpha=1e-06"));
}

TEST(Distribution, FairFourWaySplitPasses) {
  auto r = check_distribution({"a", "b", "c", "d"}, {1, 1, 1, 1}, {990, 1020, 1005, 985}, 1e-6);
  EXPECT_TRUE(r.pass) << r.reason;
  EXPECT_EQ(r.test, "chi-square (3 df)");
  // chi2 = (100 + 400 + 25 + 225) / 1000 = 0.75 on 3 df.
  EXPECT_NEAR(r.p_value, chi_square_sf(0.75, 3), 1e-15);
  EXPECT_GT(r.p_value, 0.8);
}

TEST(Distribution, FourWayWithOneCategoryAtHalfItsShareFails) {
  auto r = check_distribution({"a", "b", "c", "d"}, {1, 1, 1, 1}, {1167, 1167, 500, 1166}, 1e-6);
  EXPECT_FALSE(r.pass);
  EXPECT_LT(r.p_value, 1e-30);
  EXPECT_THAT(r.reason, HasSubstr("c got 500 of 4000 probes where 1000.0 were expected"));
}

TEST(Distribution, CategoryWithoutProbesFailsByName) {
  auto r = check_distribution({"pod-a", "pod-b", "pod-c"}, {1, 1, 1}, {150, 0, 150}, 1e-6);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.reason, "pod-b got no probe");
  EXPECT_LT(r.p_value, 1e-6);
  EXPECT_GT(r.p_value, 0.0);  // the test's own p-value is kept
}

TEST(Distribution, EmptyCategoryFailsEvenWhenTheTestAloneWouldPass) {
  // 20 probes, all to pod-a: the two-sided p = 2 * 0.5^20 = 1.9e-6 passes at
  // 1e-6, but 0.5^20 = 9.5e-7 < 1e-6 makes the empty pod-b implausible alone.
  auto r = check_distribution({"pod-a", "pod-b"}, {1, 1}, {20, 0}, 1e-6);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.reason, "pod-b got no probe");
  EXPECT_NEAR(r.p_value, 2 * std::pow(0.5, 20), 1e-18);
}

TEST(Distribution, EmptyCategoryWithTooFewProbesToTellPasses) {
  // 4 probes over 4 categories: an empty one is the likely outcome.
  auto r = check_distribution({"a", "b", "c", "d"}, {1, 1, 1, 1}, {2, 1, 1, 0}, 1e-6);
  EXPECT_TRUE(r.pass) << r.reason;
  EXPECT_EQ(r.test, "chi-square (3 df; small expected counts)");
}

TEST(Distribution, SeveralEmptyCategoriesAreAllNamed) {
  auto r = check_distribution({"a", "b", "c", "d"}, {1, 1, 1, 1}, {500, 0, 500, 0}, 1e-6);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.reason, "b and d got no probe");
}

TEST(Distribution, UnexpectedCategoryFails) {
  auto r = check_distribution({"pod-a", "pod-b", "drain"}, {1, 1, 0}, {1000, 1000, 3}, 1e-6);
  EXPECT_FALSE(r.pass);
  EXPECT_EQ(r.p_value, 0.0);
  EXPECT_EQ(r.reason, "drain was not expected but got 3 probes");
  EXPECT_EQ(r.test, "exact binomial");  // the zero-weight category takes no part
}

TEST(Distribution, ZeroWeightCategoryWithoutProbesIsIgnored) {
  auto r = check_distribution({"pod-a", "pod-b", "drain"}, {1, 1, 0}, {1000, 1000, 0}, 1e-6);
  EXPECT_TRUE(r.pass) << r.reason;
  EXPECT_EQ(r.test, "exact binomial");
  EXPECT_EQ(r.expected[2], 0.0);
}

TEST(Distribution, WeightedThreeToOnePasses) {
  auto r = check_distribution({"heavy", "light"}, {3, 1}, {1500, 500}, 1e-6);
  EXPECT_TRUE(r.pass) << r.reason;
  EXPECT_THAT(r.expected, ::testing::ElementsAre(1500.0, 500.0));
  EXPECT_DOUBLE_EQ(r.p_value, 1.0);
  // Weights need not sum to 1, and the unweighted split now fails.
  auto even = check_distribution({"heavy", "light"}, {75, 25}, {1000, 1000}, 1e-6);
  EXPECT_FALSE(even.pass);
  EXPECT_THAT(even.reason, HasSubstr("p="));
}

TEST(Distribution, PValueBelowTheDoubleRangeReadsAsABound) {
  // 2 * 10001 / 2^10001 underflows; the message gives the bound, not "p=0".
  auto r = check_distribution({"pod-a", "pod-b"}, {1, 1}, {10000, 1}, 1e-6);
  EXPECT_FALSE(r.pass);
  EXPECT_LT(r.p_value, DBL_MIN);
  EXPECT_THAT(r.reason, HasSubstr("(exact binomial p<2.2e-308 < alpha=1e-06)"));
}

TEST(Distribution, SingleCategoryAndNoProbes) {
  auto one = check_distribution({"only"}, {1}, {7}, 1e-6);
  EXPECT_TRUE(one.pass);
  EXPECT_EQ(one.p_value, 1.0);
  auto none = check_distribution({"a", "b", "c"}, {1, 1, 1}, {0, 0, 0}, 1e-6);
  EXPECT_TRUE(none.pass);
  EXPECT_EQ(none.p_value, 1.0);
}

TEST(Distribution, RejectsMalformedInput) {
  EXPECT_THROW(check_distribution({"a"}, {1, 1}, {1, 1}, 0.01), kpath::Error);
  EXPECT_THROW(check_distribution({"a", "b"}, {0, 0}, {1, 1}, 0.01), kpath::Error);
  EXPECT_THROW(check_distribution({"a", "b"}, {1, -1}, {1, 1}, 0.01), kpath::Error);
  EXPECT_THROW(check_distribution({"a", "b"}, {1, NAN}, {1, 1}, 0.01), kpath::Error);
  EXPECT_THROW(check_distribution({"a", "b"}, {1, 1}, {1, 1}, 0), kpath::Error);
  EXPECT_THROW(check_distribution({}, {}, {}, 0.01), kpath::Error);
}

TEST(SpecialFunctions, ChiSquareSurvivalKnownValues) {
  EXPECT_NEAR(chi_square_sf(3.84, 1), 0.0500435212487051, 1e-13);
  EXPECT_NEAR(chi_square_sf(11.07, 5), 0.0500096186224055, 1e-13);
  EXPECT_NEAR(chi_square_sf(1, 1), 0.317310507862914, 1e-13);
  EXPECT_NEAR(chi_square_sf(0.5, 3), 0.918891411654676, 1e-13);
  EXPECT_NEAR(chi_square_sf(0.001, 1), 0.97477287936996, 1e-13);
  EXPECT_NEAR(chi_square_sf(50, 100), 0.999993046694752, 1e-13);
  EXPECT_NEAR(chi_square_sf(20, 40), 0.996545658024143, 1e-13);
  // Small tails: relative accuracy.
  EXPECT_NEAR(chi_square_sf(150, 100) / 0.000903932042354009, 1, 1e-10);
  EXPECT_NEAR(chi_square_sf(100, 10) / 5.44970198292053e-17, 1, 1e-10);
  EXPECT_NEAR(chi_square_sf(1000, 2) / 7.12457640674129e-218, 1, 1e-10);
  // Q(5, 750) = e^-726.69 is below the double range: it underflows, no throw.
  EXPECT_LT(chi_square_sf(1500, 10), DBL_MIN);
  EXPECT_EQ(chi_square_sf(0, 4), 1.0);
}

TEST(SpecialFunctions, ChiSquareSurvivalIsTheIncompleteGamma) {
  // chi_square_sf(x, df) = Q(df/2, x/2), the regularized upper incomplete gamma.
  EXPECT_NEAR(1 - chi_square_sf(4, 6), 0.323323583816937, 1e-14);  // P(3, 2)
  EXPECT_NEAR(chi_square_sf(80, 100), 0.929664933340605, 1e-13);   // Q(50, 40)
  EXPECT_NEAR(1 - chi_square_sf(80, 100), 0.0703350666593950, 1e-13);
  EXPECT_NEAR(chi_square_sf(0.02, 1), 0.887537083981715, 1e-13);
  EXPECT_NEAR(chi_square_sf(1400, 1) / 2.10101451626422e-306, 1, 1e-10);  // near DBL_MIN
  EXPECT_LT(chi_square_sf(4000, 1000), DBL_MIN);                          // Q(500, 2000) = e^-812
  EXPECT_THROW(chi_square_sf(1, 0), kpath::Error);
  EXPECT_THROW(chi_square_sf(1, -1), kpath::Error);
  EXPECT_THROW(chi_square_sf(NAN, 2), kpath::Error);
}

TEST(SpecialFunctions, ChiSquareQuantileInvertsSurvival) {
  EXPECT_NEAR(chi_square_isf(0.05, 1), 3.841458820694124, 1e-9);
  EXPECT_NEAR(chi_square_isf(0.05, 5), 11.070497693516351, 1e-9);
  EXPECT_NEAR(chi_square_sf(chi_square_isf(1e-6, 3), 3), 1e-6, 1e-15);
}

TEST(SpecialFunctions, ExactBinomialKnownValues) {
  EXPECT_DOUBLE_EQ(binomial_two_sided_p(10, 0, 0.5), 2 * std::pow(0.5, 10));
  EXPECT_DOUBLE_EQ(binomial_two_sided_p(10, 10, 0.5), 2 * std::pow(0.5, 10));
  EXPECT_DOUBLE_EQ(binomial_two_sided_p(10, 5, 0.5), 1.0);
  EXPECT_NEAR(binomial_two_sided_p(100, 30, 0.25), 0.24907145667188751, 1e-13);
  EXPECT_NEAR(binomial_two_sided_p(100, 15, 0.25), 0.020490233437442874, 1e-13);
  EXPECT_NEAR(binomial_two_sided_p(2000, 1560, 0.75), 0.0017779629622570138, 1e-13);
  EXPECT_NEAR(binomial_two_sided_p(1000, 250, 0.3), 0.000487555656764088, 1e-15);
  EXPECT_DOUBLE_EQ(binomial_two_sided_p(2000, 1500, 0.75), 1.0);
  // 2 Σ_{j<=3000} C(10000, j) / 2^10000 = e^-826.32, far below DBL_MIN.
  EXPECT_LT(binomial_two_sided_p(10000, 3000, 0.5), DBL_MIN);
  EXPECT_EQ(binomial_two_sided_p(5, 0, 0.0), 1.0);
  EXPECT_EQ(binomial_two_sided_p(5, 1, 0.0), 0.0);
  EXPECT_THROW(binomial_two_sided_p(5, 6, 0.5), kpath::Error);
}

TEST(SpecialFunctions, ExactBinomialTiesCountWithinTolerance) {
  // pmf(3) == pmf(7) for p = 0.5: both tails count (R: binom.test(3, 10) 0.34375).
  EXPECT_NEAR(binomial_two_sided_p(10, 3, 0.5), 0.34375, 1e-15);
  // With p = 1/3, pmf(0) == pmf(1) == 4/9 only up to the rounding of 1/3: the
  // tolerance makes them ties, so every outcome of k = 0 is as likely or less.
  EXPECT_EQ(binomial_two_sided_p(2, 0, 1.0 / 3), 1.0);
  EXPECT_EQ(binomial_two_sided_p(2, 1, 1.0 / 3), 1.0);
  EXPECT_NEAR(binomial_two_sided_p(2, 2, 1.0 / 3), 1.0 / 9, 1e-15);
}

TEST(SpecialFunctions, DomainEdgesNeitherThrowNorSetErrno) {
  errno = 0;
  EXPECT_EQ(binomial_two_sided_p(0, 0, 0.5), 1.0);  // no observations
  EXPECT_EQ(binomial_two_sided_p(5, 5, 1.0), 1.0);
  EXPECT_EQ(binomial_two_sided_p(5, 4, 1.0), 0.0);
  EXPECT_EQ(binomial_pmf(5, 6, 0.5), 0.0);
  EXPECT_EQ(binomial_pmf(5, 0, 0.0), 1.0);
  EXPECT_EQ(chi_square_sf(-1, 3), 1.0);
  EXPECT_EQ(chi_square_sf(INFINITY, 3), 0.0);
  EXPECT_EQ(chi_square_sf(1e4, 1), 0.0);  // underflow
  EXPECT_EQ(noncentral_chi_square_sf(0, 3, 5), 1.0);
  EXPECT_NEAR(noncentral_chi_square_sf(7.8, 3, 0), chi_square_sf(7.8, 3), 1e-15);
  EXPECT_EQ(errno, 0);
}

TEST(SpecialFunctions, BadArgumentsThrowKpathError) {
  EXPECT_THROW(chi_square_isf(0, 3), kpath::Error);
  EXPECT_THROW(chi_square_isf(1, 3), kpath::Error);
  EXPECT_THROW(chi_square_isf(0.05, INFINITY), kpath::Error);
  EXPECT_THROW(noncentral_chi_square_sf(1, 3, -1), kpath::Error);
  EXPECT_THROW(binomial_pmf(5, 1, 1.5), kpath::Error);
  // Boost 1.74 cannot take lambda = 1e12 (an integer rounding deep inside):
  // whatever Boost throws must arrive as kpath::Error. A later Boost may answer.
  try {
    double sf = noncentral_chi_square_sf(1e12, 3, 1e12);
    EXPECT_TRUE(sf >= 0 && sf <= 1) << sf;
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("noncentral chi-square: "));
  }
  try {
    binomial_two_sided_p(5, 1, NAN);
    ADD_FAILURE() << "no error";
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("binomial test: probability must be in [0, 1], got nan"));
  }
}

// Sends `probes` fair probes per trial into 2^bits buckets with bit-exact
// uniform randomness and returns the fraction of trials with p < alpha.
double false_failure_fraction(int trials, int probes, int bits, double alpha) {
  std::mt19937_64 rng(20240611);
  const int buckets = 1 << bits, per_word = 64 / bits;
  const std::vector<double> weights(buckets, 1.0);
  const std::vector<std::string> names(buckets, "b");
  int failures = 0;
  for (int t = 0; t < trials; ++t) {
    std::vector<uint64_t> counts(buckets, 0);
    for (int sent = 0; sent < probes;) {
      uint64_t word = rng();
      for (int i = 0; i < per_word && sent < probes; ++i, ++sent, word >>= bits) ++counts[word & (buckets - 1)];
    }
    failures += check_distribution(names, weights, counts, alpha).p_value < alpha;
  }
  return double(failures) / trials;
}

TEST(Distribution, FalseFailureRateOfExactBinomialIsAsStated) {
  // 20000 trials: the binomial sd of the fraction at 0.01 is 0.0007. The exact
  // test is discrete and slightly conservative (true size 0.0095 here).
  double rate = false_failure_fraction(20000, 2000, 1, 0.01);
  EXPECT_GE(rate, 0.005);
  EXPECT_LE(rate, 0.015);
  double size = 0;  // exact size: Σ over outcomes that the test rejects
  for (uint64_t k = 0; k <= 2000; ++k)
    if (binomial_two_sided_p(2000, k, 0.5) < 0.01) size += binomial_pmf(2000, k, 0.5);
  EXPECT_LE(size, 0.01);
  EXPECT_NEAR(rate, size, 5 * 0.0007);
}

TEST(Distribution, FalseFailureRateOfChiSquareIsAsStated) {
  double rate = false_failure_fraction(10000, 1000, 2, 0.05);  // sd 0.0022
  EXPECT_GE(rate, 0.04);
  EXPECT_LE(rate, 0.06);
}

TEST(ProbesNeeded, TwoWayMatchesTextbookAndExactPower) {
  // Normal-approximation textbook answer for 0.5 vs 0.6 at alpha 0.01, power
  // 0.8: ((2.576 * 0.5 + 0.842 * 0.49) / 0.1)^2 ≈ 289.
  uint64_t n = probes_needed({1, 1}, 0.01, 0.8, 0.1);
  EXPECT_GE(n, 270u);
  EXPECT_LE(n, 310u);
  // The exact binomial test with that many probes has about the stated power
  // against a 0.6 share.
  double power = 0;
  for (uint64_t k = 0; k <= n; ++k)
    if (binomial_two_sided_p(n, k, 0.5) < 0.01) power += binomial_pmf(n, k, 0.6);
  EXPECT_GT(power, 0.75);
  EXPECT_LT(power, 0.85);
}

TEST(ProbesNeeded, GrowsWithStrictnessAndShrinksWithSkew) {
  const std::vector<double> w{1, 1, 1, 1};
  uint64_t base = probes_needed(w, 1e-6, 0.99, 0.1);
  EXPECT_GT(probes_needed(w, 1e-9, 0.99, 0.1), base);
  EXPECT_GT(probes_needed(w, 1e-6, 0.999, 0.1), base);
  EXPECT_LT(probes_needed(w, 1e-6, 0.99, 0.2), base);
  // Halving the skew needs about four times the probes.
  EXPECT_NEAR(double(probes_needed(w, 1e-6, 0.99, 0.05)) / base, 4.0, 0.01);
  EXPECT_THROW(probes_needed({1}, 0.01, 0.8, 0.1), kpath::Error);
  EXPECT_THROW(probes_needed({1, 1}, 0.01, 0.8, 0), kpath::Error);
  EXPECT_THROW(probes_needed({1, 1}, 0.01, 0.005, 0.1), kpath::Error);
}

TEST(ProbesNeeded, DetectsTheShiftInSimulation) {
  // 4 buckets, one shifted from 0.25 to 0.35: the check at 1e-6 should catch
  // it in about 99% of runs with probes_needed probes.
  const std::vector<double> w{1, 1, 1, 1};
  const uint64_t n = probes_needed(w, 1e-6, 0.99, 0.1);
  std::mt19937_64 rng(7);
  std::discrete_distribution<int> skewed({0.35, 0.65 / 3, 0.65 / 3, 0.65 / 3});
  int caught = 0;
  const int trials = 500;
  for (int t = 0; t < trials; ++t) {
    std::vector<uint64_t> counts(4, 0);
    for (uint64_t i = 0; i < n; ++i) ++counts[skewed(rng)];
    caught += !check_distribution({"a", "b", "c", "d"}, w, counts, 1e-6).pass;
  }
  EXPECT_GE(double(caught) / trials, 0.97);
}

TEST(CombinedFalseFailureRate, IsOneMinusProductOfPasses) {
  EXPECT_DOUBLE_EQ(combined_false_failure_rate({}), 0.0);
  EXPECT_NEAR(combined_false_failure_rate({0.01, 0.01}), 0.0199, 1e-15);
  EXPECT_NEAR(combined_false_failure_rate({0.5, 0.5, 0.5}), 0.875, 1e-15);
  // Many tiny alphas: about their sum, without cancellation.
  std::vector<double> many(1000, 1e-9);
  EXPECT_NEAR(combined_false_failure_rate(many) / 1e-6, 1 - 0.5 * 999 * 1e-9, 1e-12);
  EXPECT_THROW(combined_false_failure_rate({1.5}), kpath::Error);
}

}  // namespace
}  // namespace harness::stats
