// Selection and distribution: --list, --focus/--skip, shards (flag and
// GoogleTest's variables) and the per-expectation timeout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>
#include <regex>
#include <set>

#include "base/error.h"
#include "base/strings.h"
#include "harness/cases/case_loader.h"
#include "harness/run/scheduler.h"
#include "netns/namespace.h"
#include "netns/process.h"
#include "support/files.h"
#include "support/host_process.h"
#include "support/privileges.h"

namespace harness {
namespace {

using ::testing::HasSubstr;

const std::string kCases = std::string(KPATH_SOURCE_DIR) + "/cases";
const std::string kSeed = kCases + "/seed-webapp1-nodeport.yaml";

netns::ProcessResult kpath(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), KPATH_BINARY);
  if (!env.empty()) {
    env.insert(env.begin(), "env");
    args.insert(args.begin(), env.begin(), env.end());
  }
  return kpath_test::run_on_host(netns::Namespace::current(), args, {}, std::chrono::seconds(120));
}

std::string run_of(const std::string& line) { return line.substr(0, line.rfind('\t')); }  // case and generator

TEST(Selection, TwoShardsOfTheSuiteAreDisjointAndTogetherAllOfIt) {
  auto all = kpath({"run", "--list", kCases});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  auto every = kpath::split_lines(all.out);
  ASSERT_GT(every.size(), 100u);
  EXPECT_EQ(std::set<std::string>(every.begin(), every.end()).size(), every.size()) << "list lines are unique";
  auto zero = kpath::split_lines(kpath({"run", "--list", "--shard", "0/2", kCases}).out);
  auto one = kpath::split_lines(kpath({"run", "--list", kCases}, {"GTEST_TOTAL_SHARDS=2", "GTEST_SHARD_INDEX=1"}).out);
  ASSERT_FALSE(zero.empty());
  ASSERT_FALSE(one.empty());
  std::multiset<std::string> together(zero.begin(), zero.end());
  together.insert(one.begin(), one.end());
  EXPECT_EQ(together, std::multiset<std::string>(every.begin(), every.end()));
  // A run (case and generator) never splits: its expectations depend on each other.
  std::set<std::string> runs_zero, runs_one;
  for (const auto& l : zero) runs_zero.insert(run_of(l));
  for (const auto& l : one) runs_one.insert(run_of(l));
  for (const auto& r : runs_zero) EXPECT_EQ(runs_one.count(r), 0u) << r << " is in both shards";
}

TEST(Selection, FocusAndSkipMatchTheListLine) {
  auto r = kpath({"run", "--list", "--focus", "^b08-terminating-endpoints\tkube-iptables\t", "--skip",
                  "UDP|ClusterIP|hairpin|does not define|by a rule", kCases});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = kpath::split_lines(r.out);
  EXPECT_EQ(
      got,
      (std::vector<std::string>{
          "b08-terminating-endpoints\tkube-iptables\twith ready endpoints, only the ready ones answer (TCP NodePort)",
          "b08-terminating-endpoints\tkube-iptables\twith no ready endpoint left, the serving terminating ones "
          "answer, never the non-serving one (TCP NodePort)",
          "b08-terminating-endpoints\tkube-iptables\twith no serving endpoint at all, the Service rejects"}));
}

TEST(Selection, BadShardsAndPatternsAreUsageErrors) {
  EXPECT_EQ(kpath({"run", "--list", "--shard", "2/2", kSeed}).exit_code, 2);
  EXPECT_EQ(kpath({"run", "--list", "--shard", "1", kSeed}).exit_code, 2);
  EXPECT_EQ(kpath({"run", "--list", kSeed}, {"GTEST_TOTAL_SHARDS=0", "GTEST_SHARD_INDEX=0"}).exit_code, 2);
  auto r = kpath({"run", "--list", "--focus", "(", kSeed});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--focus '(': not a regular expression"));
  EXPECT_THROW(Shard::parse("-1/3"), kpath::Error);
  EXPECT_EQ(Shard::parse("2/3").index, 2);
}

TEST(Selection, PlanDealsRunsRoundRobinAndKeepsSelectedExpectations) {
  std::vector<Case> cases;
  for (const auto& f : find_case_files({kCases + "/behaviours"})) cases.push_back(load_case(f));
  RunOptions options;
  auto all = plan(cases, options);
  Selection third;
  third.shard = {1, 3};
  auto part = plan(cases, options, third);
  ASSERT_EQ(part.size(), (all.size() + 1) / 3);
  for (size_t i = 0; i < part.size(); ++i) {
    EXPECT_EQ(part[i].c, all[3 * i + 1].c);
    EXPECT_EQ(part[i].generator.name(), all[3 * i + 1].generator.name());
    EXPECT_EQ(part[i].expectations.size(), part[i].c->expect.size());
  }
  Selection focus;
  focus.focus = Selection::pattern("rejects$", "--focus");
  for (const auto& t : plan(cases, options, focus))
    for (const Expectation* e : t.expectations) EXPECT_THAT(e->name, testing::EndsWith("rejects"));
}

// A focused expectation after endpoint changes sees the cluster they leave:
// with web-3 and web-4 not ready too, nothing serves and the Service rejects.
TEST(Selection, FocusedExpectationSeesEarlierEndpointChanges) {
  KPATH_REQUIRE_NET_ADMIN();
  auto r = kpath({"run", "-g", "kube-iptables", "--focus", "the Service rejects",
                  kCases + "/behaviours/b08-terminating-endpoints.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 passed, 0 failed"));
}

TEST(Selection, ExpectationTimeoutStopsTheProbesAndFails) {
  KPATH_REQUIRE_NET_ADMIN();
  // The seed case with 51,200 probes (the loader's probe budget) on its
  // first expectation: seconds even for the two-thread prober on an idle machine.
  std::string yaml = kpath_test::read_file(kSeed);
  yaml.replace(yaml.find("probes: 2000"), 12, "probes: 51200");
  kpath_test::TempPath slow_file(::testing::TempDir() + "kpath-slow-seed-" + std::to_string(getpid()) + ".yaml");
  const std::string& slow = slow_file.str();
  std::ofstream(slow) << yaml;
  auto r = kpath({"run", "-g", "kube-iptables", "--expectation-timeout", "1", slow});
  // No wall-clock bound here (a loaded machine is slow): the count of probes
  // done says the timeout, not the probe budget, ended the expectation.
  std::smatch done;
  ASSERT_TRUE(std::regex_search(r.out, done, std::regex("\\(([0-9]+)/51200 probes done\\)"))) << r.out;
  EXPECT_LT(std::stoi(done[1].str()), 51200);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, testing::ContainsRegex(
                         "FAIL .*through the NodePort: timed out after 1 s \\([0-9]+/51200 probes done\\)"));
  EXPECT_THAT(r.out, HasSubstr("3 passed, 1 failed")) << "the other expectations run as usual";
}

}  // namespace
}  // namespace harness

namespace harness {
namespace {

// The example CI workflow uses only flags kpath run has.
TEST(Selection, ExampleWorkflowFlagsExist) {
  std::string workflow = kpath_test::read_file(KPATH_SOURCE_DIR "/ci/examples/github-actions-sharded.yml");
  std::string help = kpath({"run", "--help"}).out;
  std::regex flag(R"re(\s(--[a-z][a-z-]+))re");
  size_t kpath_at = workflow.find("build/kpath run --expectation-timeout");
  ASSERT_NE(kpath_at, std::string::npos);
  std::string command = workflow.substr(kpath_at, workflow.find("cases/", kpath_at) - kpath_at);
  int checked = 0;
  for (auto it = std::sregex_iterator(command.begin(), command.end(), flag); it != std::sregex_iterator();
       ++it, ++checked)
    EXPECT_THAT(help, HasSubstr((*it)[1].str())) << "kpath run has no " << (*it)[1];
  EXPECT_EQ(checked, 4);
}

}  // namespace
}  // namespace harness
