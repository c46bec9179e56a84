// Generator specs: one parser for the case files and the command line.
#include "harness/model/generator_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/error.h"

namespace harness {
namespace {

using ::testing::HasSubstr;
using Kind = GeneratorSpec::Kind;

struct Accepted {
  const char* text;
  Kind kind;
  ProxyMode mode;
  const char* argument;
  const char* name;
};

class SpecAccepted : public ::testing::TestWithParam<Accepted> {};

TEST_P(SpecAccepted, Parses) {
  const Accepted& a = GetParam();
  GeneratorSpec s = GeneratorSpec::parse(a.text, "/suite/cases");
  EXPECT_EQ(s.kind, a.kind);
  EXPECT_EQ(s.mode, a.mode);
  EXPECT_EQ(s.argument, a.argument);
  EXPECT_EQ(s.name(), a.name);
  // str() selects the same generator again.
  GeneratorSpec again = GeneratorSpec::parse(s.str(), "/elsewhere");
  EXPECT_EQ(again.kind, s.kind);
  EXPECT_EQ(again.mode, s.mode);
  EXPECT_EQ(again.argument, s.argument);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, SpecAccepted,
    ::testing::Values(
        Accepted{"kube-iptables", Kind::KubeIptables, ProxyMode::Iptables, "", "kube-iptables"},
        Accepted{"kube-nftables", Kind::KubeNftables, ProxyMode::Nftables, "", "kube-nftables"},
        // A ruleset path is relative to the base (the case file's folder).
        Accepted{"ruleset:../dumps/a.iptables-save", Kind::Ruleset, ProxyMode::None, "/suite/dumps/a.iptables-save",
                 "ruleset:a.iptables-save"},
        Accepted{"ruleset:/abs/b.nft", Kind::Ruleset, ProxyMode::None, "/abs/b.nft", "ruleset:b.nft"},
        Accepted{"ruleset,mode=nftables:b.nft", Kind::Ruleset, ProxyMode::Nftables, "/suite/cases/b.nft",
                 "ruleset:b.nft"},
        // One dump per node, named; each path relative to the base.
        Accepted{"ruleset:node-a=a.nft,node-b=/abs/b.nft", Kind::Ruleset, ProxyMode::None,
                 "node-a=/suite/cases/a.nft,node-b=/abs/b.nft", "ruleset:node-a=a.nft,node-b=b.nft"},
        // A path with '=' after a '/' is a single dump, not a node map.
        Accepted{"ruleset:dumps/x=y.nft", Kind::Ruleset, ProxyMode::None, "/suite/cases/dumps/x=y.nft",
                 "ruleset:x=y.nft"},
        // An exec command keeps its colons and commas; it runs in the base folder.
        Accepted{"exec:./gen.sh --out=a,b:c", Kind::Exec, ProxyMode::None, "./gen.sh --out=a,b:c",
                 "exec:./gen.sh --out=a,b:c"},
        Accepted{"exec,mode=iptables:my-proxy", Kind::Exec, ProxyMode::Iptables, "my-proxy", "exec:my-proxy"},
        Accepted{"kube-iptables,port-names=pre-1.19", Kind::KubeIptables, ProxyMode::Iptables, "",
                 "kube-iptables,port-names=pre-1.19"},
        // A running proxy: the command keeps its $VARIABLES for sh; version is kept for requires:.
        Accepted{"proxy,mode=iptables,version=1.20.2:kube-proxy --master=$KPATH_API", Kind::Proxy, ProxyMode::Iptables,
                 "kube-proxy --master=$KPATH_API", "proxy:kube-proxy --master=$KPATH_API"}));

TEST(GeneratorSpec, ProxyVersionSurvivesStr) {
  GeneratorSpec s = GeneratorSpec::parse("proxy,version=v1.20.2:kp", "/c");
  EXPECT_EQ(s.version, "v1.20.2");
  EXPECT_EQ(GeneratorSpec::parse(s.str(), "/c").version, "v1.20.2");
}

struct Rejected {
  const char* text;
  const char* message;
};

class SpecRejected : public ::testing::TestWithParam<Rejected> {};

TEST_P(SpecRejected, SaysWhy) {
  try {
    GeneratorSpec::parse(GetParam().text, "/suite");
    FAIL() << "accepted " << GetParam().text;
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(GetParam().message));
    EXPECT_THAT(e.what(),
                HasSubstr("expected kube-iptables, kube-nftables, ruleset:PATH, exec:COMMAND or proxy:COMMAND"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Forms, SpecRejected,
    ::testing::Values(Rejected{"", "unknown generator kind ''"},
                      Rejected{"kube-ipvs", "unknown generator kind 'kube-ipvs'"},
                      Rejected{"ruleset:", "ruleset needs a path after the colon"},
                      Rejected{"ruleset:node-a=", "a per-node dump is NODE=PATH, got 'node-a='"},
                      Rejected{"ruleset:a.iptables-save+", "a dump path is empty in 'a.iptables-save+'"},
                      Rejected{"ruleset:a=x.nft,,b=y.nft", "a per-node dump is NODE=PATH, got ''"},
                      Rejected{"exec:", "exec needs a command after the colon"},
                      Rejected{"kube-iptables:x", "kube-iptables takes no argument"},
                      Rejected{"kube-iptables,mode=nftables", "kube-iptables implements iptables mode already"},
                      Rejected{"exec,mode=ipvs:x", "mode must be iptables, nftables or none, got 'ipvs'"},
                      Rejected{"exec,fast:x", "unknown option 'fast'"},
                      Rejected{"kube-nftables,port-names=pre-1.19", "unknown option 'port-names=pre-1.19'"},
                      Rejected{"kube-iptables,port-names=1.18", "port-names must be current or pre-1.19"},
                      Rejected{"proxy:", "proxy needs a command after the colon"},
                      Rejected{"proxy,version=one:x", "version must be MAJOR.MINOR[.PATCH], got 'one'"},
                      Rejected{"kube-iptables,version=1.20", "unknown option 'version=1.20'"}));

TEST(GeneratorSpec, DumpsForEachNode) {
  using Paths = std::vector<std::string>;
  GeneratorSpec single = GeneratorSpec::parse("ruleset:/d/a.nft", "");
  EXPECT_EQ(single.dumps_for("node-a", "node-a"), Paths{"/d/a.nft"});
  EXPECT_EQ(single.dumps_for("node-b", "node-a"), Paths{});
  GeneratorSpec map = GeneratorSpec::parse("ruleset:node-b=/d/b.nft", "");
  EXPECT_EQ(map.dumps_for("node-a", "node-a"), Paths{});
  EXPECT_EQ(map.dumps_for("node-b", "node-a"), Paths{"/d/b.nft"});
}

// A dual-stack node's two dumps, one per family, joined by '+' and each
// resolved against the base.
TEST(GeneratorSpec, OneDumpPerFamily) {
  using Paths = std::vector<std::string>;
  GeneratorSpec single = GeneratorSpec::parse("ruleset:a.iptables-save+a.ip6tables-save", "/d");
  EXPECT_EQ(single.dumps_for("n", "n"), (Paths{"/d/a.iptables-save", "/d/a.ip6tables-save"}));
  EXPECT_EQ(single.name(), "ruleset:a.iptables-save+a.ip6tables-save");
  GeneratorSpec map = GeneratorSpec::parse("ruleset:n1=a.iptables-save+/e/b.ip6tables-save,n2=c.nft", "/d");
  EXPECT_EQ(map.dumps_for("n1", "n1"), (Paths{"/d/a.iptables-save", "/e/b.ip6tables-save"}));
  EXPECT_EQ(map.dumps_for("n2", "n1"), Paths{"/d/c.nft"});
  EXPECT_EQ(map.name(), "ruleset:n1=a.iptables-save+b.ip6tables-save,n2=c.nft");
}

TEST(GeneratorSpec, BuiltinsAreTheDefaultSet) {
  auto builtins = builtin_generators();
  ASSERT_EQ(builtins.size(), 2u);
  EXPECT_EQ(builtins[0].name(), "kube-iptables");
  EXPECT_EQ(builtins[1].name(), "kube-nftables");
  EXPECT_TRUE(builtins[0].builtin());
  EXPECT_FALSE(GeneratorSpec::parse("exec:x", "").builtin());
}

}  // namespace
}  // namespace harness
