// The command line as a user meets it: exit statuses (README and --help list
// them), --version, unknown commands, and reports that cannot be written being
// found before anything runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "netns/namespace.h"
#include "netns/process.h"
#include "support/files.h"
#include "support/host_process.h"
#include "support/privileges.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";
const std::string kRulesets = std::string(KPATH_TESTS_DIR) + "/run/rulesets/";

netns::ProcessResult kpath(std::vector<std::string> args) {
  args.insert(args.begin(), KPATH_BINARY);
  return kpath_test::run_on_host(netns::Namespace::current(), args, {}, std::chrono::seconds(120));
}

TEST(Cli, VersionNamesTheCommit) {
  auto r = kpath({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, testing::MatchesRegex("kpath [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit [0-9a-f]{12}\\)\n"));
}

TEST(Cli, UnknownCommandIsNamed) {
  auto r = kpath({"bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'bogus'"));
}

TEST(Cli, UsageErrorsAreTwo) {
  EXPECT_EQ(kpath({"run", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(kpath({"run", "-j", "0", kSeed}).exit_code, 2);
  auto r = kpath({"run", "-g", "kube-ipvs", kSeed});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown generator kind 'kube-ipvs'"));
}

TEST(Cli, HelpListsTheExitStatuses) {
  auto r = kpath({"run", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("4 nothing ran"));
  EXPECT_THAT(r.out, HasSubstr("--allow-skip"));
}

TEST(Cli, UnwritableReportIsFoundBeforeTheRun) {
  auto r = kpath({"run", "--junit", "/nonexistent-dir/report.xml", kSeed});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot write report /nonexistent-dir/report.xml"));
  EXPECT_THAT(r.err, Not(HasSubstr("run(s)"))) << "nothing may run first";
}

TEST(Cli, EmptyFolderRunsNothingAndSaysSo) {
  KPATH_REQUIRE_NET_ADMIN();
  kpath_test::TempPath empty(testing::TempDir() + "kpath-empty-suite-" + std::to_string(getpid()));
  const std::string& dir = empty.str();
  std::filesystem::create_directories(dir);
  auto r = kpath({"run", dir});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("nothing to run"));
}

TEST(Cli, FailedExpectationIsOneAndGeneratorErrorIsThree) {
  KPATH_REQUIRE_NET_ADMIN();
  auto failed = kpath({"run", "-g", "ruleset:" + kRulesets + "seed-all-to-one-pod.iptables-save", kSeed});
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  auto errored = kpath({"run", "-g", "exec:echo broken >&2; exit 7", kSeed});
  EXPECT_EQ(errored.exit_code, 3) << errored.out << errored.err;
  EXPECT_THAT(errored.out, HasSubstr("broken"));
}

}  // namespace
