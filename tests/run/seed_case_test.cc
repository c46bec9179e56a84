// The seed scenario on the kernel: the bundled case passes with the built-in
// generator and with the completed dump; the dump as printed is rejected at
// its broken line; deliberately wrong rulesets make the expectations fail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/cases/case_loader.h"
#include "harness/run/runner.h"
#include "support/files.h"
#include "support/host_snapshot.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";
const std::string kRulesets = std::string(KPATH_TESTS_DIR) + "/run/rulesets/";

CaseRun run_seed(const std::string& generator) {
  Case c = load_case(kSeed);
  RunOptions options;
  // Relative paths as a spec in the case file would have them.
  return run_case(c, GeneratorSpec::parse(generator, KPATH_SOURCE_DIR "/cases"), options);
}

std::string describe(const CaseRun& run) {
  std::string s = run.error;
  for (const auto& e : run.expectations) s += "\n" + e.expectation->name + ": " + e.check.summary;
  return s;
}

TEST(SeedCase, PassesWithKubeIptables) {
  KPATH_REQUIRE_NET_ADMIN();
  auto before = kpath_test::HostSnapshot::take();
  CaseRun run = run_seed("kube-iptables");
  EXPECT_EQ(run.status, Status::Pass) << describe(run);
  ASSERT_EQ(run.expectations.size(), 4u);
  // Both pods answered the external client through the NodePort.
  EXPECT_EQ(run.expectations[0].check.backends.size(), 2u);
  EXPECT_EQ(run.probes, 2620u);
  auto after = kpath_test::HostSnapshot::take();
  EXPECT_TRUE(before == after) << "the root namespace changed:\n" << before.difference(after);
}

TEST(SeedCase, PassesWithTheCompletedDump) {
  KPATH_REQUIRE_NET_ADMIN();
  CaseRun run = run_seed("ruleset:seed/webapp1-nodeport.iptables-save");
  EXPECT_EQ(run.status, Status::Pass) << describe(run);
}

TEST(SeedCase, PassesWithLegacyIptables) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = load_case(kSeed);
  RunOptions options;
  options.install.iptables = IptablesVariant::Legacy;
  auto before = kpath_test::HostSnapshot::take();
  CaseRun run = run_case(c, GeneratorSpec::parse("kube-iptables", ""), options);
  EXPECT_EQ(run.status, Status::Pass) << describe(run);
  auto after = kpath_test::HostSnapshot::take();
  EXPECT_TRUE(before == after) << "the root namespace changed:\n" << before.difference(after);
}

// The rejection itself (line and message) is checked without a kernel in
// tests/generators/ruleset_file_test.cc; here, that a run reports it and
// sends no traffic.
TEST(SeedCase, DumpAsPrintedIsRejectedAtItsBrokenLine) {
  KPATH_REQUIRE_NET_ADMIN();
  CaseRun run = run_seed("ruleset:" + kRulesets + "seed-as-printed.iptables-save");
  EXPECT_EQ(run.status, Status::Error);
  EXPECT_THAT(run.error, HasSubstr("seed-as-printed.iptables-save:9:"));
  EXPECT_TRUE(run.expectations.empty()) << "no traffic may run on a rejected ruleset";
}

TEST(SeedCase, AllTrafficToOnePodFailsTheDistribution) {
  KPATH_REQUIRE_NET_ADMIN();
  CaseRun run = run_seed("ruleset:" + kRulesets + "seed-all-to-one-pod.iptables-save");
  EXPECT_EQ(run.status, Status::Fail);
  ASSERT_FALSE(run.expectations.empty());
  const auto& nodeport = run.expectations[0].check;
  EXPECT_EQ(nodeport.status, Status::Fail);
  EXPECT_THAT(nodeport.summary, HasSubstr("webapp1-nodeport-deployment-785989576b-tpfqr got no probe"));
  EXPECT_THAT(nodeport.detail, HasSubstr("expected"));
  EXPECT_THAT(nodeport.detail, HasSubstr("p = "));
  // The counters say where this expectation's own probes went: both of the
  // Service's rules lead to one endpoint chain, which took all 2000.
  const auto& diagnosis = run.expectations[0].diagnosis;
  EXPECT_THAT(diagnosis, HasSubstr("on master:"));
  EXPECT_THAT(diagnosis, HasSubstr("2000 packets  ip nat KUBE-SEP-YLXG4RMKAICGY2B3: -A KUBE-SEP-YLXG4RMKAICGY2B3"));
  EXPECT_THAT(diagnosis, Not(HasSubstr("KUBE-SEP-4CGFRVESQ3AECDE7:"))) << "the other endpoint got nothing";
  EXPECT_THAT(diagnosis, HasSubstr("conntrack on master: 2000 entries for 192.168.100.1:30080"));
}

TEST(SeedCase, MissingMasqueradeFailsTheSourceCheck) {
  KPATH_REQUIRE_NET_ADMIN();
  CaseRun run = run_seed("ruleset:" + kRulesets + "seed-no-masquerade.iptables-save");
  EXPECT_EQ(run.status, Status::Fail);
  ASSERT_FALSE(run.expectations.empty());
  EXPECT_THAT(run.expectations[0].check.summary,
              HasSubstr("source not masqueraded: backends saw 192.168.100.2 (2000x)"));
}

TEST(SeedCase, BrokenRulesFromAGeneratorNameTheFailingRule) {
  KPATH_REQUIRE_NET_ADMIN();
  // Valid iptables-save syntax, but a target that does not exist.
  kpath_test::TempPath dump(::testing::TempDir() + "kpath-bad-target-" + std::to_string(getpid()) + ".iptables-save");
  const std::string& path = dump.str();
  FILE* f = fopen(path.c_str(), "w");
  fputs("*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN\nCOMMIT\n", f);
  fclose(f);
  CaseRun run = run_seed("ruleset:" + path);
  EXPECT_EQ(run.status, Status::Error);
  EXPECT_THAT(run.error, HasSubstr("iptables-nft-restore rejected the rules"));
  EXPECT_THAT(run.error, HasSubstr("-A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN"));
}

TEST(SeedCase, ExecGeneratorThatHangsIsKilled) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = load_case(kSeed);
  RunOptions options;
  options.install.timeout = std::chrono::milliseconds(300);
  // A sleep duration no other process has: found in /proc if it survived.
  const std::string marker = "1000." + std::to_string(getpid()) + "7";
  CaseRun run = run_case(
      c, GeneratorSpec::parse("exec:echo 'waiting for the apiserver' >&2; sleep " + marker + " & sleep " + marker, ""),
      options);
  EXPECT_EQ(run.status, Status::Error);
  EXPECT_THAT(run.error, HasSubstr("did not finish within 300 ms"));
  EXPECT_THAT(run.error, HasSubstr("waiting for the apiserver"));
  EXPECT_EQ(kpath_test::command_output("pgrep -f 'slee[p] " + marker + "'"), "") << "the generator's children survived";
}

TEST(SeedCase, ExecGeneratorThatFailsShowsItsMessage) {
  KPATH_REQUIRE_NET_ADMIN();
  CaseRun run = run_seed("exec:echo 'cannot reach the apiserver' >&2; exit 3");
  EXPECT_EQ(run.status, Status::Error);
  EXPECT_THAT(run.error, HasSubstr("exit 3"));
  EXPECT_THAT(run.error, HasSubstr("cannot reach the apiserver"));
}

TEST(SeedCase, ExecGeneratorPrintingTheDumpPasses) {
  KPATH_REQUIRE_NET_ADMIN();
  // A third-party generator: reads the model (JSON) on stdin, prints rules.
  CaseRun run = run_seed("exec:cat >/dev/null; cat " + std::string(KPATH_SOURCE_DIR) +
                         "/cases/seed/webapp1-nodeport.iptables-save");
  EXPECT_EQ(run.status, Status::Pass) << describe(run);
}

TEST(SeedCase, ExecGeneratorGetsNamespacePathsLinksAndAScratchDirectory) {
  KPATH_REQUIRE_NET_ADMIN();
  const std::string src = KPATH_SOURCE_DIR;
  CaseRun run = run_seed("exec:python3 " + src + "/tests/run/exec_contract.py " + src +
                         "/cases/seed/webapp1-nodeport.iptables-save");
  EXPECT_EQ(run.status, Status::Pass) << describe(run);
  EXPECT_EQ(run.error, "");
}

TEST(SeedCase, ExecGeneratorInstallingItselfPasses) {
  KPATH_REQUIRE_NET_ADMIN();
  // Like a real proxy: installs the rules on its own and prints nothing.
  CaseRun run = run_seed("exec:cat >/dev/null; iptables-nft-restore < " + std::string(KPATH_SOURCE_DIR) +
                         "/cases/seed/webapp1-nodeport.iptables-save");
  EXPECT_EQ(run.status, Status::Pass) << describe(run);
}

}  // namespace
