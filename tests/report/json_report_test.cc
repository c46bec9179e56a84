// The JSON report read back: schema version, every planned expectation (the
// unrun ones with the reason), observed counts, expected counts, p-values.
#include "harness/report/json_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/sample_report.h"

namespace harness {
namespace {

using nlohmann::json;

json sample() { return json::parse(json_report(testing_support::SampleReport().report)); }

TEST(JsonReport, SchemaEnvironmentAndEveryPlannedRun) {
  json j = sample();
  EXPECT_EQ(j["schema"], "kpath.report/v1");
  EXPECT_EQ(j["environment"]["kpath"], "kpath 0.1.0 (commit 0123456789ab)");
  EXPECT_EQ(j["environment"]["kernel"], "6.1.0-test");
  EXPECT_EQ(j["environment"]["nft"], "nftables v1.0.6");
  EXPECT_EQ(j["environment"]["started"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(j["interrupted"], true);
  ASSERT_EQ(j["runs"].size(), 4u);
  size_t expectations = 0;
  for (const auto& run : j["runs"]) expectations += run["expectations"].size();
  EXPECT_EQ(expectations, 2u + 5 + 5 + 5);
  EXPECT_EQ(j["load_errors"].size(), 1u);
}

TEST(JsonReport, CountsExpectedSharesAndPValues) {
  json j = sample();
  const json& pass = j["runs"][0]["expectations"][0];
  EXPECT_EQ(pass["status"], "PASS");
  EXPECT_EQ(pass["observed"]["backends"]["pod-a"], 1012);
  EXPECT_EQ(pass["observed"]["backends"]["pod-b"], 988);
  EXPECT_EQ(pass["observed"]["outcomes"]["reply"], 2000);
  EXPECT_EQ(pass["observed"]["sources"]["node"], 2000);
  EXPECT_DOUBLE_EQ(pass["expected_counts"]["pod-a"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(pass["p_value"].get<double>(), 0.59);
  EXPECT_EQ(j["runs"][1]["expectations"][1]["where"], "cases/interrupted.yaml:11");
  const json& unrun = j["runs"][1]["expectations"][4];
  EXPECT_EQ(unrun["status"], "SKIP");
  EXPECT_EQ(unrun["not_run"], "interrupted");
  EXPECT_FALSE(unrun.contains("observed"));
  EXPECT_EQ(j["runs"][2]["expectations"][0]["not_run"], "not run: exec:false exited 1");
  EXPECT_TRUE(j["runs"][1]["expectations"][1]["p_value"].is_null()) << "no distribution test ran";
}

TEST(JsonReport, NamesThatAreNotUtf8StillGiveJson) {
  json j = sample();
  std::string name = j["runs"][0]["case"];
  EXPECT_NE(name.find("\xef\xbf\xbd"), std::string::npos) << "a byte that is not UTF-8 becomes U+FFFD";
  EXPECT_NE(name.find("\x1b[31m"), std::string::npos) << "JSON carries control characters escaped, unchanged";
}

}  // namespace
}  // namespace harness
