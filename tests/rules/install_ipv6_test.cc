// The IPv6 proxier's text goes through ip6tables-restore, beside (or, for an
// IPv6-only cluster, instead of) the IPv4 text; kpath's own additions keep it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "base/error.h"
#include "harness/rules/installer.h"
#include "netns/namespace.h"
#include "netns/process.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kV4 = "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d 10.96.0.10/32 -j RETURN\nCOMMIT\n";
const std::string kV6 = "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d fd00:10:96::a/128 -j RETURN\nCOMMIT\n";

std::string saved(const netns::Namespace& ns, const std::string& tool) {
  return netns::run_process(ns, {tool, "-t", "nat"}, netns::ProcessOptions{}).out;
}

TEST(AddedLines, KeepTheIpv6Text) {
  RuleSet rules{RuleBackend::IptablesRestore, kV4, "g", {}, kV6};
  EXPECT_EQ(with_added_lines(rules, "*nat\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n").text6, kV6);
}

TEST(InstallIpv6, BothFamiliesGoToTheirOwnTool) {
  KPATH_REQUIRE_NET_ADMIN();
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) GTEST_SKIP() << "no IPv6 in this kernel (/proc/sys/net/ipv6)";
  netns::Namespace ns = netns::Namespace::create();
  install_rules(ns, RuleSet{RuleBackend::IptablesRestore, kV4, "g", {}, kV6}, InstallOptions{});
  EXPECT_THAT(saved(ns, "iptables-nft-save"), HasSubstr("-d 10.96.0.10/32 -j RETURN"));
  EXPECT_THAT(saved(ns, "iptables-nft-save"), Not(HasSubstr("fd00")));
  EXPECT_THAT(saved(ns, "ip6tables-nft-save"), HasSubstr("-d fd00:10:96::a/128 -j RETURN"));
}

TEST(InstallIpv6, AnIpv6OnlyRulesetLeavesIpv4Alone) {
  KPATH_REQUIRE_NET_ADMIN();
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) GTEST_SKIP() << "no IPv6 in this kernel (/proc/sys/net/ipv6)";
  netns::Namespace ns = netns::Namespace::create();
  install_rules(ns, RuleSet{RuleBackend::IptablesRestore, "", "g", {}, kV6}, InstallOptions{});
  EXPECT_THAT(saved(ns, "iptables-nft-save"), Not(HasSubstr("KUBE-SERVICES")));
  EXPECT_THAT(saved(ns, "ip6tables-nft-save"), HasSubstr("-d fd00:10:96::a/128 -j RETURN"));
}

TEST(InstallIpv6, ARejectedIpv6TextNamesItsTool) {
  KPATH_REQUIRE_NET_ADMIN();
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) GTEST_SKIP() << "no IPv6 in this kernel (/proc/sys/net/ipv6)";
  netns::Namespace ns = netns::Namespace::create();
  try {
    install_rules(ns, RuleSet{RuleBackend::IptablesRestore, kV4, "g", {}, "*nat\n-A NOPE -j RETURN\nCOMMIT\n"},
                  InstallOptions{});
    FAIL() << "installed";
  } catch (const kpath::Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("ip6tables-nft-restore rejected the rules"));
  }
}

}  // namespace
