// kpath diff on the kernel: kube-iptables against kube-nftables over the
// bundled suite prints exactly the differences the cases declare; a rule set
// that departs from kube-proxy shows as undeclared.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "harness/cases/case_loader.h"
#include "harness/verdict/check.h"
#include "netns/namespace.h"
#include "netns/process.h"
#include "support/host_process.h"
#include "support/privileges.h"

namespace harness {
namespace {

using ::testing::HasSubstr;

const std::string kCases = std::string(KPATH_SOURCE_DIR) + "/cases";

netns::ProcessResult kpath(std::vector<std::string> args) {
  args.insert(args.begin(), KPATH_BINARY);
  return kpath_test::run_on_host(netns::Namespace::current(), args, {}, std::chrono::seconds(300));
}

// "case [file:line]" of every expectation whose except: entries want different
// verdicts of the two built-ins (cases that pin a generator are not compared).
std::set<std::string> declared_in_suite() {
  std::set<std::string> out;
  for (const auto& file : find_case_files({kCases})) {
    Case c = load_case(file);
    if (c.generator) continue;
    for (const auto& e : c.expect)
      if (expected_verdict(e, "kube-iptables", ProxyMode::Iptables) !=
          expected_verdict(e, "kube-nftables", ProxyMode::Nftables))
        out.insert(fmt::format("{} [{}:{}]", c.name, e.where.file, e.where.line));
  }
  return out;
}

TEST(Diff, BuiltinsOverTheSuitePrintExactlyTheDeclaredDifferences) {
  KPATH_REQUIRE_NET_ADMIN();
  auto r = kpath({"diff", "-g", "kube-iptables", "-g", "kube-nftables", kCases});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::set<std::string> printed;
  std::regex line(R"re((?:^|\n)(DECLARED|UNDECLARED) +([^\n]+))re");
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), line); it != std::sregex_iterator(); ++it) {
    EXPECT_EQ((*it)[1], "DECLARED") << (*it)[2];
    printed.insert((*it)[2]);
  }
  auto declared = declared_in_suite();
  EXPECT_GE(declared.size(), 10u);
  EXPECT_EQ(printed, declared) << r.out;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("NOT SEEN")));
}

TEST(Diff, ARulesetThatDepartsFromKubeProxyIsUndeclared) {
  KPATH_REQUIRE_NET_ADMIN();
  auto r = kpath({"diff", "-g", "kube-iptables", "-g",
                  "ruleset:" + std::string(KPATH_TESTS_DIR) + "/run/rulesets/seed-all-to-one-pod.iptables-save",
                  kCases + "/seed-webapp1-nodeport.yaml"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("UNDECLARED seed-webapp1-nodeport"));
  EXPECT_THAT(r.out, HasSubstr("backends (not declared)"));
}

TEST(Diff, NeedsTwoGenerators) {
  auto r = kpath({"diff", "-g", "kube-iptables", kCases});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("exactly two --generator"));
}

}  // namespace
}  // namespace harness
