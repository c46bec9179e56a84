// The reports of a real run: --json, --report and -v on the seed case.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "netns/namespace.h"
#include "netns/process.h"
#include "support/host_process.h"
#include "support/privileges.h"
#include "support/files.h"

namespace {

using ::testing::HasSubstr;

const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";

TEST(Reports, JsonHtmlAndVerboseOfTheSeedCase) {
  KPATH_REQUIRE_NET_ADMIN();
  kpath_test::TempPath json_file(::testing::TempDir() + "kpath-seed-" + std::to_string(getpid()) + ".json");
  kpath_test::TempPath html_file(::testing::TempDir() + "kpath-seed-" + std::to_string(getpid()) + ".html");
  const std::string& json_path = json_file.str();
  const std::string& html_path = html_file.str();
  auto r = kpath_test::run_on_host(netns::Namespace::current(),
                                   {KPATH_BINARY, "run", "-v", "-g", "kube-iptables", "--json", json_path, "--report",
                                    html_path, kSeed},
                                   {}, std::chrono::seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out,
              testing::ContainsRegex("PASS .* 2000/2000 answered \\(p = [0-9.e-]+\\) \\[webapp1-nodeport-deployment-"
                                     "785989576b-cjc5b [0-9]+, webapp1-nodeport-deployment-785989576b-tpfqr [0-9]+\\]"))
      << "-v gives the replies per backend on PASS rows";

  auto j = nlohmann::json::parse(kpath_test::read_file(json_path));
  EXPECT_EQ(j["schema"], "kpath.report/v1");
  ASSERT_EQ(j["runs"].size(), 1u);
  const auto& run = j["runs"][0];
  EXPECT_EQ(run["status"], "PASS");
  ASSERT_EQ(run["expectations"].size(), 4u);
  const auto& nodeport = run["expectations"][0];
  uint64_t replies = 0;
  double expected = 0;
  for (const auto& [pod, n] : nodeport["observed"]["backends"].items()) replies += n.get<uint64_t>();
  for (const auto& [pod, n] : nodeport["expected_counts"].items()) expected += n.get<double>();
  EXPECT_EQ(replies, 2000u);
  EXPECT_EQ(nodeport["expected_counts"].size(), 2u);
  EXPECT_DOUBLE_EQ(expected, 2000.0);
  EXPECT_EQ(nodeport["observed"]["sources"]["node"], 2000) << "masqueraded to a node address";
  EXPECT_GT(nodeport["p_value"].get<double>(), 1e-6);
  EXPECT_EQ(nodeport["expected"]["verdict"], "reachable");
  EXPECT_EQ(run["expectations"][3]["observed"]["outcomes"]["refused"], 20);
  EXPECT_GT(run["timings_s"]["total"].get<double>(), 0);

  std::string html = kpath_test::read_file(html_path);
  EXPECT_THAT(html, HasSubstr("data-backend=\"webapp1-nodeport-deployment-785989576b-cjc5b\""));
  EXPECT_THAT(html, HasSubstr("class=\"p-value\""));
}

}  // namespace
