// Rule-hit coverage parsing (no kernel needed).
#include <gtest/gtest.h>

#include "harness/rules/counters.h"

namespace {

using namespace harness;

TEST(Coverage, CounterGoesBeforeTheActionOfEachNftRule) {
  std::string in =
      "add table ip kube-proxy\n"
      "add rule ip kube-proxy masquerading mark and 0x4000 == 0 return\n"
      "add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips\n"
      "add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000\n"
      "add rule ip kube-proxy svc numgen random mod 2 vmap { 0 : goto a , 1 : goto b }\n"
      "add rule ip kube-proxy reject-chain reject\n";
  std::string out = add_nft_counters(in);
  EXPECT_NE(out.find("add table ip kube-proxy\n"), std::string::npos);
  EXPECT_NE(out.find("masquerading mark and 0x4000 == 0 counter return"), std::string::npos);
  EXPECT_NE(out.find("services counter ip daddr . meta l4proto"), std::string::npos);
  EXPECT_NE(out.find("mark-for-masquerade counter mark set mark or 0x4000"), std::string::npos);
  EXPECT_NE(out.find("svc counter numgen random mod 2 vmap { 0 : goto a , 1 : goto b }"), std::string::npos);
  EXPECT_NE(out.find("reject-chain counter reject"), std::string::npos);
}

TEST(Coverage, ParsesIptablesSaveCounters) {
  std::string dump =
      "*nat\n"
      ":KUBE-SERVICES - [0:0]\n"
      "[12:720] -A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
      "[0:0] -A KUBE-SEP-X -s 10.0.0.1/32 -j KUBE-MARK-MASQ\n"
      "[5:300] -A DOCKER -j RETURN\n"
      "COMMIT\n";
  auto hits = parse_rule_hits(dump, RuleBackend::IptablesRestore);
  ASSERT_EQ(hits.size(), 2u);  // DOCKER is not kube-proxy's
  EXPECT_EQ(hits[0].chain, "PREROUTING");
  EXPECT_EQ(hits[0].packets, 12u);
  EXPECT_EQ(hits[1].chain, "KUBE-SEP-X");
  EXPECT_EQ(hits[1].packets, 0u);
  EXPECT_EQ(hits[1].rule, "-A KUBE-SEP-X -s 10.0.0.1/32 -j KUBE-MARK-MASQ");
}

TEST(Coverage, ParsesNftListCountersOfTheKubeProxyTableOnly) {
  std::string dump =
      "table ip other {\n\tchain c {\n\t\tcounter packets 9 bytes 9 accept\n\t}\n}\n"
      "table ip kube-proxy {\n\tchain masquerading {\n"
      "\t\tmeta mark & 0x00004000 == 0x00000000 counter packets 3 bytes 180 return\n"
      "\t\tcounter packets 0 bytes 0 masquerade fully-random\n\t}\n}\n";
  auto hits = parse_rule_hits(dump, RuleBackend::Nft);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].chain, "masquerading");
  EXPECT_EQ(hits[0].packets, 3u);
  EXPECT_EQ(hits[0].rule, "meta mark & 0x00004000 == 0x00000000 return");
  EXPECT_EQ(hits[1].packets, 0u);
  EXPECT_EQ(hits[1].rule, "masquerade fully-random");
}

}  // namespace
