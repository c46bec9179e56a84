// kpath mutate: which mutants a rule text yields (no kernel), the mutated
// generator's edit, and the command end to end on a tiny case whose three
// rules give one killed, one surviving and one declared unobservable mutant.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "harness/cases/case_loader.h"
#include "harness/generators/registry.h"
#include "harness/run/mutate.h"
#include "harness/run/runner.h"
#include "netns/namespace.h"
#include "netns/process.h"
#include "support/host_process.h"
#include "support/privileges.h"

namespace harness {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kTiny = std::string(KPATH_TESTS_DIR) + "/run/mutate/";

std::vector<std::string> described(const std::vector<Mutant>& mutants) {
  std::vector<std::string> out;
  for (const auto& m : mutants) out.push_back(m.describe());
  return out;
}

TEST(MutantsOf, IptablesRulesAreRemovedAndProbabilitiesHalved) {
  RuleSet rules{RuleBackend::IptablesRestore,
                "*nat\n:KUBE-SVC-X - [0:0]\n"
                "-A KUBE-SVC-X -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A\n"
                "-A KUBE-SVC-X -j KUBE-SEP-B\nCOMMIT\n",
                "test",
                {}};
  EXPECT_THAT(described(mutants_of(rules, "node-a")),
              ::testing::ElementsAre(
                  "removed: -A KUBE-SVC-X -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A",
                  "perturbed: -A KUBE-SVC-X -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A -> "
                  "-A KUBE-SVC-X -m statistic --mode random --probability 0.25000000000 -j KUBE-SEP-A",
                  "removed: -A KUBE-SVC-X -j KUBE-SEP-B"));
  for (const auto& m : mutants_of(rules, "node-a")) EXPECT_EQ(m.sites, (std::vector<Mutant::Site>{{0, "node-a"}}));
}

TEST(MutantsOf, NftRulesElementsAndNumgenSplits) {
  RuleSet rules{RuleBackend::Nft,
                "add table ip kube-proxy\n"
                "add chain ip kube-proxy svc { comment \"x\" ; }\n"
                "add map ip kube-proxy service-ips { type ipv4_addr : verdict ; }\n"
                "add rule ip kube-proxy svc numgen random mod 3 vmap { 0 : goto a, 1 : goto b, 2 : goto c }\n"
                "add element ip kube-proxy service-ips { 10.96.0.1 : goto svc }\n"
                "add element ip kube-proxy cluster-ips { 10.96.0.1, 10.96.0.2 }\n",
                "test",
                {}};
  EXPECT_THAT(
      described(mutants_of(rules, "n")),
      ::testing::ElementsAre(
          "removed: add rule ip kube-proxy svc numgen random mod 3 vmap { 0 : goto a, 1 : goto b, 2 : goto c }",
          "perturbed: add rule ip kube-proxy svc numgen random mod 3 vmap { 0 : goto a, 1 : goto b, 2 : goto c } "
          "-> add rule ip kube-proxy svc numgen random mod 4 vmap { 0 : goto a, 1 : goto b, 2-3 : goto c }",
          "removed: add element ip kube-proxy service-ips { 10.96.0.1 : goto svc }",
          "removed: add element ip kube-proxy cluster-ips { 10.96.0.1 }",
          "removed: add element ip kube-proxy cluster-ips { 10.96.0.2 }"));
  // Taking one element out of a list keeps the others.
  auto m = mutants_of(rules, "n");
  EXPECT_EQ(m[3].replacement, "add element ip kube-proxy cluster-ips { 10.96.0.2 }");
}

TEST(MutantsOf, NftBlocksYieldTheRulesOfChainsOnly) {
  RuleSet rules{RuleBackend::Nft,
                "table ip kube-proxy {\n"
                "\tset cluster-ips {\n\t\ttype ipv4_addr\n\t\telements = { 10.96.0.1 }\n\t}\n"
                "\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
                "\t\tjump services\n\t}\n"
                "}\n",
                "test",
                {}};
  EXPECT_THAT(described(mutants_of(rules, "n")), ::testing::ElementsAre("removed: jump services"));
}

TEST(MutantsOf, NothingForRulesAGeneratorInstallsItself) {
  EXPECT_TRUE(mutants_of(RuleSet{RuleBackend::AppliedItself, "", "", {}}, "n").empty());
}

TEST(MutatedGenerator, EditsTheLineAndCountsEdits) {
  Case c = load_case(kTiny + "tiny.yaml");
  auto base = make_generator(*c.generator);
  auto mutants = mutants_of(base->generate(c.cluster, "master"), "master");
  ASSERT_EQ(mutants.size(), 3u);
  MutatedGenerator mutated(*base, mutants[0]);
  RuleSet rules = mutated.generate(c.cluster, "master");
  EXPECT_THAT(rules.text, Not(HasSubstr("--dport 30080")));
  EXPECT_THAT(rules.text, HasSubstr("--dport 30099"));
  EXPECT_EQ(mutated.edits(), 1);
  EXPECT_EQ(mutated.name(), base->name());
  EXPECT_EQ(mutated.mode(), ProxyMode::Iptables);
}

TEST(PlanMutants, CoversEveryStateOfTheRunOnceWithItsNodes) {
  // b08 moves endpoints to terminating: rules that exist only afterwards are mutants too.
  Case c = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/behaviours/b08-terminating-endpoints.yaml");
  Task task{&c, GeneratorSpec::parse("kube-iptables", ""), {}};
  auto generator = make_generator(task.generator);
  auto all = plan_mutants(task, 7, *generator);
  auto first = mutants_of(generator->generate(c.cluster, c.cluster.nodes[0].name), c.cluster.nodes[0].name);
  EXPECT_GT(all.size(), first.size());
  std::set<std::string> seen;
  for (const auto& m : all) {
    ASSERT_FALSE(m.sites.empty());
    for (const auto& s : m.sites) EXPECT_EQ(s.task, 7u);
    EXPECT_TRUE(seen.insert(m.describe()).second) << "twice: " << m.describe();
  }
}

TEST(PlanMutants, TheSameRuleInTwoRunsIsOneMutantWithBothSites) {
  Case a = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/behaviours/b03-hairpin.yaml");
  Case b = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/behaviours/b15-conntrack-invalid-drop.yaml");
  std::vector<Task> tasks{{&a, GeneratorSpec::parse("kube-iptables", ""), {}},
                          {&b, GeneratorSpec::parse("kube-iptables", ""), {}}};
  auto all = plan_all_mutants(tasks);
  auto invalid = std::find_if(all.begin(), all.end(), [](const Mutant& m) {
    return m.rule == "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP";
  });
  ASSERT_NE(invalid, all.end());
  EXPECT_EQ(invalid->tasks(), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(describe_sites(*invalid, tasks), "b03-hairpin@node-a b15-conntrack-invalid-drop@node-a,node-b");
}

// kube-proxy writes its masquerade rule alike for both families: the
// ip6tables text's is a mutant of its own, taken out of that text only.
TEST(MutantsOf, TheIp6tablesTextsRulesAreMutantsOfTheirOwn) {
  RuleSet rules{RuleBackend::IptablesRestore, "*nat\n-A KUBE-POSTROUTING -j MASQUERADE\nCOMMIT\n", "test", {}};
  rules.text6 = rules.text;
  EXPECT_THAT(described(mutants_of(rules, "n")),
              ::testing::ElementsAre("removed: -A KUBE-POSTROUTING -j MASQUERADE",
                                     "removed (ip6tables): -A KUBE-POSTROUTING -j MASQUERADE"));
  Case c = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/ipv6/seed-webapp1-nodeport-dualstack.yaml");
  auto base = make_generator(GeneratorSpec::parse("kube-iptables", ""));
  auto all = mutants_of(base->generate(c.cluster, "master"), "master");
  auto masquerade = std::find_if(all.begin(), all.end(), [](const Mutant& m) {
    return m.ipv6 && m.rule.starts_with("-A KUBE-POSTROUTING") && m.rule.find("-j MASQUERADE") != std::string::npos;
  });
  ASSERT_NE(masquerade, all.end());
  RuleSet mutated = MutatedGenerator(*base, *masquerade).generate(c.cluster, "master");
  EXPECT_THAT(mutated.text, HasSubstr(masquerade->line)) << "the IPv4 masquerade stays";
  EXPECT_THAT(mutated.text6, Not(HasSubstr(masquerade->line)));
}

// The done criterion: without the IPv6 masquerade (the ip6tables
// text's KUBE-POSTROUTING MASQUERADE, the ip6 table's masquerade rule), the
// dual-stack seed fails, at an IPv6 expectation, on the source the backends saw.
TEST(MutateCommand, AMutantWithoutTheIpv6MasqueradeIsCaught) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/ipv6/seed-webapp1-nodeport-dualstack.yaml");
  const std::map<std::string, std::function<bool(const Mutant&)>> ipv6_masquerade = {
      {"kube-iptables",
       [](const Mutant& m) {
         return m.ipv6 && m.rule.starts_with("-A KUBE-POSTROUTING") &&
                m.rule.find("-j MASQUERADE") != std::string::npos;
       }},
      {"kube-nftables",
       [](const Mutant& m) {
         return m.rule.starts_with("add rule ip6 kube-proxy masquerading") &&
                m.rule.find(" masquerade") != std::string::npos;
       }},
  };
  for (const auto& [name, is_masquerade] : ipv6_masquerade) {
    SCOPED_TRACE(name);
    auto base = make_generator(GeneratorSpec::parse(name, ""));
    auto all = mutants_of(base->generate(c.cluster, "master"), "master");
    auto m = std::find_if(all.begin(), all.end(), is_masquerade);
    ASSERT_NE(m, all.end());
    MutatedGenerator mutated(*base, *m);
    RunOptions options;
    options.fail_fast = true;
    CaseRun run = run_case(c, mutated, options);
    EXPECT_EQ(mutated.edits() > 0, true);
    ASSERT_EQ(run.status, Status::Fail) << run.error;
    const ExpectationRun& failed = run.expectations.back();
    EXPECT_EQ(failed.check.status, Status::Fail);
    EXPECT_THAT(failed.expectation->name, HasSubstr("IPv6"));
    EXPECT_THAT(failed.check.summary, HasSubstr("source")) << failed.check.summary;
  }
}

netns::ProcessResult kpath(std::vector<std::string> args) {
  args.insert(args.begin(), KPATH_BINARY);
  return kpath_test::run_on_host(netns::Namespace::current(), args, {}, std::chrono::seconds(300));
}

TEST(MutateCommand, ListsMutantsWithoutRunning) {
  auto r = kpath({"mutate", "--list", "--unobservable", kTiny + "unobservable.yaml", kTiny + "tiny.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ruleset:tiny.iptables-save\tremoved: -A PREROUTING -p tcp -m tcp --dport 30080 -j DNAT --to-destination "
            "10.32.0.3:80\tmutate-tiny@master\n"
            "ruleset:tiny.iptables-save\tremoved: -A PREROUTING -p tcp -m tcp --dport 30099 -j DNAT --to-destination "
            "10.32.0.3:80\tmutate-tiny@master\n"
            "ruleset:tiny.iptables-save\tremoved: -A TINY-UNUSED -j RETURN\tmutate-tiny@master\tunobservable\n");
}

TEST(MutateCommand, TheCheckedInListLoadsAndCoversBothBuiltins) {
  for (const char* g : {"kube-iptables", "kube-nftables"}) {
    auto r = kpath({"mutate", "--list", "-g", g, std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("xor")) << g;
    EXPECT_THAT(r.out, HasSubstr("\tunobservable\n")) << g << ": the masquerade mark's reset is declared";
  }
}

// `family:` narrows an entry to one family's rules: kube-iptables writes the
// same kubelet jump for both, into a chain that holds rules for IPv4 only.
TEST(MutateCommand, AnUnobservableEntryForOneFamily) {
  std::string path = ::testing::TempDir() + "kpath-unobservable-family-" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream f(path);
    f << "unobservable:\n  - family: IPv6\n    rule: '^-A INPUT -j KUBE-FIREWALL$'\n    reason: empty chain\n";
  }
  auto r = kpath({"mutate", "--list", "-g", "kube-iptables", "--unobservable", path,
                  std::string(KPATH_SOURCE_DIR) + "/cases/ipv6/seed-webapp1-nodeport-dualstack.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("\tremoved (ip6tables): -A INPUT -j KUBE-FIREWALL\tseed-webapp1-nodeport-dualstack@master"
                        "\tunobservable\n"));
  EXPECT_THAT(r.out, HasSubstr("\tremoved: -A INPUT -j KUBE-FIREWALL\tseed-webapp1-nodeport-dualstack@master\n"));
  std::remove(path.c_str());
  {
    std::ofstream f(path);
    f << "unobservable:\n  - family: ipv6\n    rule: x\n    reason: r\n";
  }
  r = kpath({"mutate", "--list", "--unobservable", path, kTiny + "tiny.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("family must be IPv4 or IPv6"));
  std::remove(path.c_str());
}

TEST(MutateCommand, BadUnobservableListIsBadInput) {
  std::string path = ::testing::TempDir() + "kpath-unobservable-" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream f(path);
    f << "unobservable:\n  - rule: '('\n    reason: broken\n";
  }
  auto r = kpath({"mutate", "--list", "--unobservable", path, kTiny + "tiny.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(path + ":2:"));
  EXPECT_THAT(r.err, HasSubstr("not a regular expression"));
  std::remove(path.c_str());
}

TEST(MutateCommand, OneKilledOneSurvivedOneUnobservable) {
  KPATH_REQUIRE_NET_ADMIN();
  auto r = kpath({"mutate", "-j", "2", "--unobservable", kTiny + "unobservable.yaml", kTiny + "tiny.yaml"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("\nmutants: 1 killed, 1 survived, 1 unobservable\n"));
  EXPECT_THAT(r.out, testing::EndsWith("mutants: 1 killed, 1 survived, 1 unobservable\n"));
  EXPECT_THAT(r.out,
              HasSubstr("Survivors (every case they appear in, CASE@NODES, still passed):\n"
                        "  ruleset:tiny.iptables-save  removed: -A PREROUTING -p tcp -m tcp --dport 30099 -j DNAT "
                        "--to-destination 10.32.0.3:80\n      in mutate-tiny@master\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("--dport 30080"))) << "the killed mutant is no survivor";
  EXPECT_THAT(r.out, HasSubstr("1 mutant(s) of /^-A TINY-UNUSED / (ruleset:tiny.iptables-save): a chain nothing "
                               "jumps to"));
  EXPECT_THAT(r.err, HasSubstr("mutant 2/2"));
}

TEST(MutateCommand, NoSurvivorExitsZero) {
  KPATH_REQUIRE_NET_ADMIN();
  // Declaring the never-probed rule too leaves only the killed mutant.
  std::string path = ::testing::TempDir() + "kpath-unobservable-all-" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream f(path);
    f << "unobservable:\n  - rule: 'TINY-UNUSED|--dport 30099'\n    reason: never probed\n";
  }
  auto r = kpath({"mutate", "--unobservable", path, kTiny + "tiny.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, testing::EndsWith("mutants: 1 killed, 0 survived, 2 unobservable\n"));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace harness
