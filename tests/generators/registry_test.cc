// The registry builds each kind of generator from its spec, and each says
// which kube-proxy mode it implements and what it needs from the kernel.
#include "harness/generators/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/rules/features.h"
#include "tests/generators/reference_cluster.h"

namespace harness {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Not;

std::unique_ptr<Generator> make(const std::string& spec) { return make_generator(GeneratorSpec::parse(spec, "/c")); }

TEST(Registry, BuildsEveryKindWithItsNameAndMode) {
  struct Row {
    const char* spec;
    const char* name;
    ProxyMode mode;
    bool cleanup;
  };
  for (const Row& r :
       {Row{"kube-iptables", "kube-iptables", ProxyMode::Iptables, true},
        Row{"kube-nftables", "kube-nftables", ProxyMode::Nftables, true},
        Row{"ruleset:d/x.iptables-save", "ruleset:x.iptables-save", ProxyMode::None, false},
        Row{"ruleset,mode=iptables:x.iptables-save", "ruleset:x.iptables-save", ProxyMode::Iptables, false},
        Row{"exec:./gen", "exec:./gen", ProxyMode::None, false},
        Row{"exec,mode=nftables:./gen", "exec:./gen", ProxyMode::Nftables, false}}) {
    auto g = make(r.spec);
    ASSERT_TRUE(g) << r.spec;
    EXPECT_EQ(g->name(), r.name) << r.spec;
    EXPECT_EQ(g->mode(), r.mode) << r.spec;
    EXPECT_EQ(g->needs_conntrack_cleanup(), r.cleanup) << r.spec;
  }
}

// Needs come from what the generator is and what the case asks of it, not
// from the text it writes.
TEST(Registry, NeedsFollowTheMode) {
  Cluster c = kpath_test::small_cluster();
  EXPECT_THAT(make("kube-iptables")->needs(c), Contains(feature::kStatistic));
  EXPECT_THAT(make("kube-iptables")->needs(c), Not(Contains(feature::kRecent)));
  EXPECT_THAT(make("kube-nftables")->needs(c), Contains(feature::kNumgen));
  EXPECT_THAT(make("kube-nftables")->needs(c), Not(Contains(feature::kStatistic)));
  EXPECT_THAT(make("exec,mode=iptables:./gen")->needs(c), Contains(feature::kStatistic));
  EXPECT_THAT(make("exec:./gen")->needs(c), IsEmpty());
  EXPECT_THAT(make("ruleset:x.nft")->needs(c), IsEmpty());

  c.services.front().session_affinity_client_ip = true;
  EXPECT_THAT(make("kube-iptables")->needs(c), Contains(feature::kRecent));
  c.proxy.random_fully = true;
  EXPECT_THAT(make("kube-nftables")->needs(c), Contains(feature::kNftMasqueradeFullyRandom));
}

// The spec's option reaches the generator: an unnamed port's chains as
// kube-proxy named them before 1.19 (the seed dump's J2DWGRZTH4C2LPA4).
TEST(Registry, PortNamesOptionSelectsThePre119Names) {
  Cluster seed = kpath_test::seed_cluster();
  auto old = make("kube-iptables,port-names=pre-1.19");
  EXPECT_EQ(old->name(), "kube-iptables,port-names=pre-1.19");
  EXPECT_NE(old->generate(seed, "master").text.find("KUBE-SVC-J2DWGRZTH4C2LPA4"), std::string::npos);
  EXPECT_NE(make("kube-iptables")->generate(seed, "master").text.find("KUBE-SVC-X42AMYO3K4UIBY54"), std::string::npos);
}

}  // namespace
}  // namespace harness
