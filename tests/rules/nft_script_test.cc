// A large nft script goes in as several transactions (nft_script.h): the
// splitter, value in, value out; then on the kernel, the same script installed
// in parts leaves exactly what one `nft -f` leaves, and a rejected rule in a
// later part is shown at its line of the whole script.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "base/error.h"
#include "harness/rules/installer.h"
#include "harness/rules/nft_script.h"
#include "netns/namespace.h"
#include "netns/process.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kScript =
    "add table ip t { comment \"a { brace in a string\" ; }\n"  // 1
    "add chain ip t a\n"                                        // 2
    "add chain ip t b\n"                                        // 3
    "\n"                                                        // 4
    "add rule ip t a ip daddr { 10.0.0.1, 10.0.0.2 } accept\n"  // 5: anonymous set
    "add rule ip t a tcp dport 80 accept  # not a { set\n"      // 6
    "add rule ip t b numgen random mod 2 vmap {\n"              // 7: anonymous map, over
    "  0 : jump a, 1 : jump a }\n"                              // 8: two lines
    "add element ip t s { 1.2.3.4 }\n"                          // 9: an element, not a rule
    "insert rule ip t b ip saddr { 10.0.0.9 } drop\n";          // 10: anonymous set

TEST(NftScript, CountsTheRulesThatBindAnAnonymousSet) { EXPECT_EQ(nft_anonymous_sets(kScript), 3u); }

TEST(NftScript, CutsAfterEachGroupOfAnonymousSetRulesKeepingLineNumbers) {
  auto parts = split_nft_script(kScript, 1);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].lines, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ((*parts)[1].lines, (std::vector<int>{6, 7, 8}));
  EXPECT_EQ((*parts)[1].text,
            "add rule ip t a tcp dport 80 accept  # not a { set\n"
            "add rule ip t b numgen random mod 2 vmap {\n"
            "  0 : jump a, 1 : jump a }\n");
  EXPECT_EQ((*parts)[2].lines, (std::vector<int>{9, 10}));
  std::string joined;
  for (const auto& p : *parts) joined += p.text;
  EXPECT_EQ(joined, kScript);
}

TEST(NftScript, FewerAnonymousSetsThanAPartHoldsIsOnePart) {
  auto parts = split_nft_script(kScript, 3);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].text, kScript);
}

TEST(NftScript, ScriptsThatCannotBeCutUp) {
  EXPECT_EQ(split_nft_script(kScript, 0), std::nullopt);
  EXPECT_EQ(split_nft_script("define ips = { 10.0.0.1 }\nadd rule ip t a ip daddr $ips accept\n", 1), std::nullopt);
  EXPECT_EQ(split_nft_script("include \"other.nft\"\n", 1), std::nullopt);
  EXPECT_EQ(split_nft_script("add rule ip t a ip daddr { 10.0.0.1\n", 1), std::nullopt);  // open brace
  EXPECT_EQ(split_nft_script("add table ip t { comment \"open ; }\n", 1), std::nullopt);  // open string
  EXPECT_EQ(split_nft_script("add rule ip t a }\n", 1), std::nullopt);
}

TEST(NftScript, ABlockIsOneCommand) {
  const std::string script =
      "table ip t {\n"
      "  chain a {\n"
      "    ip daddr { 10.0.0.1 } accept\n"
      "  }\n"
      "}\n"
      "add rule ip t a ip saddr { 10.0.0.2 } accept\n";
  auto parts = split_nft_script(script, 1);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 1u);  // the block binds no counted rule; the one rule is the first part's
}

// `services` Service-like chains, each picked by an anonymous numgen map.
std::string many_anonymous_maps(int services) {
  std::string decl = "add table ip kpath-big\nadd chain ip kpath-big svc\n";
  std::string body;
  for (int i = 0; i < services; ++i) {
    const std::string chain = "svc-" + std::to_string(i);
    decl += "add chain ip kpath-big " + chain + "\n";
    decl += "add chain ip kpath-big " + chain + "-ep\n";
    body += "add rule ip kpath-big " + chain + "-ep counter accept\n";
    body += "add rule ip kpath-big " + chain + " numgen random mod 2 vmap { 0 : goto " + chain + "-ep, 1 : goto " +
            chain + "-ep }\n";
    body += "add rule ip kpath-big svc ip daddr 10.96." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) +
            " tcp dport { 80, 443 } goto " + chain + "\n";
  }
  return decl + body;
}

std::string listed(const netns::Namespace& ns) {
  return netns::run_process(ns, {"nft", "list", "ruleset"}, netns::ProcessOptions{}).out;
}

TEST(NftInstall, ALargeScriptInPartsLeavesWhatOneTransactionLeaves) {
  KPATH_REQUIRE_NET_ADMIN();
  // 100 anonymous sets in parts of 32; small enough that one transaction of it
  // fits the netlink send buffer of a user namespace (rootless CI), which nft
  // cannot raise there.
  const std::string script = many_anonymous_maps(50);
  netns::Namespace whole = netns::Namespace::create();
  netns::ProcessOptions in;
  in.input = script;
  ASSERT_EQ(netns::run_process(whole, {"nft", "-f", "/dev/stdin"}, in).exit_code, 0);

  netns::Namespace parts = netns::Namespace::create();
  InstallOptions small_parts;
  small_parts.nft_anonymous_sets_per_transaction = 32;
  std::vector<std::string> notes = install_rules(parts, RuleSet{RuleBackend::Nft, script, "big", {}}, small_parts);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(notes[0], HasSubstr("as 4 transactions"));
  EXPECT_THAT(notes[0], HasSubstr("of its 100 rules that bind an anonymous set"));
  EXPECT_THAT(listed(parts), HasSubstr("goto svc-49"));
  EXPECT_EQ(listed(parts), listed(whole));
}

TEST(NftInstall, ASmallScriptIsOneTransaction) {
  KPATH_REQUIRE_NET_ADMIN();
  netns::Namespace ns = netns::Namespace::create();
  InstallOptions options;
  options.nft_anonymous_sets_per_transaction = 256;
  EXPECT_THAT(install_rules(ns, RuleSet{RuleBackend::Nft, many_anonymous_maps(50), "small", {}}, options), IsEmpty());
  EXPECT_THAT(listed(ns), HasSubstr("goto svc-49"));
}

TEST(NftInstall, ARejectedRuleInALaterPartIsShownAtItsScriptLine) {
  KPATH_REQUIRE_NET_ADMIN();
  std::string script = many_anonymous_maps(50);
  script += "add rule ip kpath-big svc goto no-such-chain\n";
  const int bad_line = static_cast<int>(std::count(script.begin(), script.end(), '\n'));
  netns::Namespace ns = netns::Namespace::create();
  try {
    InstallOptions small_parts;
    small_parts.nft_anonymous_sets_per_transaction = 32;
    install_rules(ns, RuleSet{RuleBackend::Nft, script, "big.nft", {}}, small_parts);
    FAIL() << "nft took a jump to a chain that does not exist";
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("failing rule (big.nft:" + std::to_string(bad_line) +
                                    "): add rule ip kpath-big svc goto no-such-chain"));
    EXPECT_THAT(e.what(), HasSubstr("transaction 4 of 4"));
  }
}

}  // namespace
