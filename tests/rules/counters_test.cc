// Rule counters: parsing every table, and the moves between two reads (no kernel needed).
#include <gtest/gtest.h>

#include "harness/rules/counters.h"

namespace {

using namespace harness;

TEST(Counters, CounterGoesBeforeTheActionOfEachNftRule) {
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

// Every table and chain counts, not only kube-proxy's: another proxy's rules
// (CNI-*, NETAVARK-*) and built-in chains are where its probes go too.
TEST(Counters, ParsesIptablesSaveCountersOfEveryChain) {
  std::string dump =
      "*nat\n"
      ":KUBE-SERVICES - [0:0]\n"
      "[12:720] -A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
      "[0:0] -A KUBE-SEP-X -s 10.0.0.1/32 -j KUBE-MARK-MASQ\n"
      "[5:300] -A CNI-HOSTPORT-DNAT -j RETURN\n"
      "COMMIT\n"
      "*filter\n"
      ":INPUT ACCEPT [99:999]\n"
      "[7:420] -A INPUT -j DROP\n"
      "COMMIT\n";
  auto c = parse_iptables_counters(dump, "n1");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].node, "n1");
  EXPECT_EQ(c[0].table, "nat");
  EXPECT_EQ(c[0].chain, "PREROUTING");
  EXPECT_EQ(c[0].packets, 12u);
  EXPECT_EQ(c[1].rule, "-A KUBE-SEP-X -s 10.0.0.1/32 -j KUBE-MARK-MASQ");
  EXPECT_EQ(c[2].chain, "CNI-HOSTPORT-DNAT");
  EXPECT_EQ(c[3].table, "filter");
  EXPECT_EQ(c[3].packets, 7u);
}

TEST(Counters, ParsesNftCountersOfEveryTableWithTheirHandles) {
  std::string dump =
      "table ip other { # handle 1\n\tchain c { # handle 1\n\t\tcounter packets 9 bytes 9 accept # handle 2\n\t}\n}\n"
      "table ip kube-proxy { # handle 3\n\tchain masquerading { # handle 4\n"
      "\t\tmeta mark & 0x00004000 == 0x00000000 counter packets 3 bytes 180 return # handle 5\n"
      "\t\tcounter packets 0 bytes 0 masquerade fully-random # handle 6\n"
      "\t\tip daddr 10.0.0.1 accept # handle 7\n\t}\n}\n";
  auto c = parse_nft_counters(dump, "n1");
  ASSERT_EQ(c.size(), 3u);  // the rule without a counter is not listed
  EXPECT_EQ(c[0].table, "ip other");
  EXPECT_EQ(c[0].rule, "accept");
  EXPECT_EQ(c[0].handle, 2u);
  EXPECT_EQ(c[1].table, "ip kube-proxy");
  EXPECT_EQ(c[1].chain, "masquerading");
  EXPECT_EQ(c[1].packets, 3u);
  EXPECT_EQ(c[1].rule, "meta mark & 0x00004000 == 0x00000000 return");
  EXPECT_EQ(c[1].handle, 5u);
  EXPECT_EQ(c[2].rule, "masquerade fully-random");
}

TEST(Counters, MovesAreTheDifferenceAndARecreatedRuleCountsFromZero) {
  std::vector<RuleCounter> before = {{"n1", "nat", "SVC", "-A SVC -j SEP-A", 10},
                                     {"n1", "nat", "SVC", "-A SVC -j SEP-B", 5},
                                     {"n1", "nat", "SVC", "-A SVC -j MARK", 1},
                                     {"n1", "nat", "SVC", "-A SVC -j MARK", 2},
                                     {"n1", "ip t", "c", "accept", 50, 7}};
  std::vector<RuleCounter> after = {{"n1", "nat", "SVC", "-A SVC -j SEP-A", 10},
                                    {"n1", "nat", "SVC", "-A SVC -j SEP-B", 3},  // reset by a re-apply, then 3
                                    {"n1", "nat", "SVC", "-A SVC -j MARK", 1},
                                    {"n1", "nat", "SVC", "-A SVC -j MARK", 9},  // the second equal rule
                                    {"n2", "nat", "SVC", "-A SVC -j SEP-A", 4},
                                    {"n1", "ip t", "c", "accept", 60, 9}};  // re-installed: a new handle, from 0
  auto moves = counter_moves(before, after);
  ASSERT_EQ(moves.size(), 4u);
  EXPECT_EQ(moves[3].packets, 60u);
  EXPECT_EQ(moves[0].rule, "-A SVC -j SEP-B");
  EXPECT_EQ(moves[0].packets, 3u);
  EXPECT_EQ(moves[1].rule, "-A SVC -j MARK");
  EXPECT_EQ(moves[1].packets, 7u);
  EXPECT_EQ(moves[2].node, "n2");
  EXPECT_EQ(moves[2].packets, 4u);
  std::string text = describe_moves(moves);
  EXPECT_NE(text.find("on n1:"), std::string::npos);
  EXPECT_NE(text.find("on n2:"), std::string::npos);
  EXPECT_NE(text.find("3 packets  nat SVC: -A SVC -j SEP-B"), std::string::npos) << text;
  EXPECT_EQ(describe_moves({}), "    no rule counter moved on any node\n");
}

}  // namespace
