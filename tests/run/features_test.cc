// Feature-based skips: a run whose generator needs a kernel feature that is
// missing is reported SKIP with the reason, never PASS; the real probe finds
// what the bundled seed case needs on this kernel.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "harness/cases/case_loader.h"
#include "harness/generators/registry.h"
#include "harness/host/doctor.h"
#include "harness/run/needs.h"
#include "harness/report/junit.h"
#include "harness/report/report.h"
#include "harness/run/runner.h"
#include "support/host_snapshot.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";

std::vector<std::string> required_features(const Case& c, const std::string& spec) {
  return make_generator(GeneratorSpec::parse(spec, KPATH_SOURCE_DIR "/cases"))->needs(c.cluster);
}

// Everything present except xt_statistic.
FeatureReport without_statistic() {
  FeatureReport r;
  for (const char* name :
       {feature::kNat, feature::kAddrtype, feature::kComment, feature::kMasquerade, feature::kRecent, feature::kNumgen})
    r.features.push_back({name, true, {}});
  r.features.push_back({feature::kStatistic, false, "fake: no xt_statistic in this kernel"});
  return r;
}

TEST(RequiredFeatures, KubeIptablesNeedsTheIptablesMatches) {
  Case c = load_case(kSeed);
  auto need = required_features(c, "kube-iptables");
  for (const char* f :
       {feature::kNat, feature::kStatistic, feature::kAddrtype, feature::kComment, feature::kMasquerade})
    EXPECT_THAT(need, Contains(std::string(f)));
  EXPECT_THAT(need, Not(Contains(std::string(feature::kRecent)))) << "the seed has no session affinity";
  EXPECT_THAT(need, Not(Contains(std::string(feature::kNumgen))));
}

TEST(RequiredFeatures, ClientIpAffinityNeedsRecent) {
  Case c = load_case(kSeed);
  c.cluster.services.at(0).session_affinity_client_ip = true;
  EXPECT_THAT(required_features(c, "kube-iptables"), Contains(std::string(feature::kRecent)));
}

TEST(RequiredFeatures, KubeNftablesNeedsNumgenNotIptables) {
  Case c = load_case(kSeed);
  auto need = required_features(c, "kube-nftables");
  EXPECT_THAT(need, Contains(std::string(feature::kNumgen)));
  EXPECT_THAT(need, Not(Contains(std::string(feature::kStatistic))));
}

// A dump or a program needs what the mode it declares needs; nothing is read
// off its name or its text (a Service hash containing "ipvs" once made a
// 10,000-Service case skip with "needs ipvs").
TEST(RequiredFeatures, RulesetAndExecNeedWhatTheirDeclaredModeNeeds) {
  Case c = load_case(kSeed);
  EXPECT_THAT(required_features(c, "ruleset,mode=iptables:seed/webapp1-nodeport.iptables-save"),
              Contains(std::string(feature::kStatistic)));
  EXPECT_THAT(required_features(c, "ruleset:seed/webapp1-nodeport.iptables-save"),
              Not(Contains(std::string(feature::kStatistic))));
  EXPECT_THAT(required_features(c, "exec:my-ipvs-proxy --sync"), Not(Contains(std::string(feature::kIpvs))));
  EXPECT_THAT(required_features(c, "exec,mode=nftables:my-ipvs-proxy"), Contains(std::string(feature::kNumgen)));
}

TEST(SkipReason, NamesTheFirstMissingFeatureAndWhy) {
  auto report = without_statistic();
  EXPECT_EQ(skip_reason(report, {feature::kNat, feature::kStatistic}),
            "skipped: needs xt_statistic (fake: no xt_statistic in this kernel)");
  EXPECT_EQ(skip_reason(report, {feature::kNat, feature::kNumgen}), std::nullopt);
  EXPECT_EQ(skip_reason(report, {"not-probed"}), std::nullopt) << "an unprobed feature is assumed present";
}

TEST(FeatureSkip, SeedCaseWithoutStatisticIsSkippedNotPassed) {
  Case c = load_case(kSeed);
  FeatureReport report = without_statistic();
  RunOptions options;
  options.features = &report;
  CaseRun run = run_case(c, GeneratorSpec::parse("kube-iptables", ""), options);
  EXPECT_EQ(run.status, Status::Skip);
  EXPECT_EQ(run.error, "skipped: needs xt_statistic (fake: no xt_statistic in this kernel)");
  EXPECT_TRUE(run.expectations.empty()) << "no traffic may run when the kernel lacks a feature";
  EXPECT_EQ(run.probes, 0u);

  Report r;
  r.runs.push_back(run);
  EXPECT_FALSE(r.all_passed()) << "a run where nothing passed proved nothing";
  CaseRun passed;
  passed.status = Status::Pass;
  Report mixed;
  mixed.runs = {run, passed};
  EXPECT_TRUE(mixed.all_passed()) << "a skip is not a failure";
  EXPECT_THAT(summary(r), HasSubstr("0 failed, 0 errors, 1 skipped"));
  EXPECT_THAT(summary(r), HasSubstr("SKIP"));
  EXPECT_THAT(progress_line(run, 1, 1),
              HasSubstr("SKIP  seed-webapp1-nodeport (kube-iptables)  skipped: needs xt_statistic"));
  EXPECT_THAT(junit_xml(r), HasSubstr("<skipped message=\"skipped: needs xt_statistic"));
  EXPECT_THAT(junit_xml(r), HasSubstr("skipped=\"4\"")) << "each of the seed's 4 expectations, skipped";
}

// The same fake kernel still runs the generator that does not need the
// missing feature: the skip is per requirement, not blanket.
TEST(FeatureSkip, KubeNftablesStillRunsWithoutStatistic) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = load_case(kSeed);
  FeatureReport report = without_statistic();
  RunOptions options;
  options.features = &report;
  CaseRun run = run_case(c, GeneratorSpec::parse("kube-nftables", ""), options);
  EXPECT_EQ(run.status, Status::Pass) << run.error;
  EXPECT_EQ(run.expectations.size(), c.expect.size());
}

TEST(FeatureProbe, FindsWhatTheSeedNeedsAndLeavesTheHostAlone) {
  KPATH_REQUIRE_NET_ADMIN();
  auto before = kpath_test::HostSnapshot::take();
  FeatureReport report = probe_all_features(IptablesVariant::Nft);
  auto after = kpath_test::HostSnapshot::take();
  EXPECT_TRUE(before == after) << "probing changed the root namespace:\n" << before.difference(after);
  Case c = load_case(kSeed);
  EXPECT_EQ(skip_reason(report, required_features(c, "kube-iptables")), std::nullopt);
  EXPECT_EQ(skip_reason(report, required_features(c, "kube-nftables")), std::nullopt);
  ASSERT_NE(report.find(feature::kIpvs), nullptr);
  for (const auto& f : report.features) {
    if (f.ok) continue;
    EXPECT_FALSE(f.reason.empty()) << f.name << " is missing without a reason";
  }
}

TEST(FeatureProbe, LegacyIptablesProbesToo) {
  KPATH_REQUIRE_NET_ADMIN();
  FeatureReport report = probe_all_features(IptablesVariant::Legacy);
  const FeatureStatus* nat = report.find(feature::kNat);
  ASSERT_NE(nat, nullptr);
  EXPECT_TRUE(nat->ok) << nat->reason;
}

// kpath run probes once and shares the answer between its runner threads.
TEST(FeatureProbe, CachedProbeIsTheSameAnswerTwice) {
  KPATH_REQUIRE_NET_ADMIN();
  FeatureProbe probe;
  const FeatureReport& a = probe.report();
  const FeatureReport& b = probe.report();
  EXPECT_EQ(&a, &b) << "probed twice";
  EXPECT_EQ(a.features.size(), probe_features().features.size());
}

}  // namespace
