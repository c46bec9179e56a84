// Lines kpath adds to a generator's iptables input go into the same table
// transaction, and an error in them says kpath added them.
#include <gtest/gtest.h>

#include "harness/rules/installer.h"

namespace {

using namespace harness;

TEST(AddedLines, GoBeforeTheirTablesCommitOrInATableOfTheirOwn) {
  RuleSet rules{RuleBackend::IptablesRestore,
                "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n",
                "dump.txt",
                {}};
  RuleSet out = with_added_lines(rules,
                                 "*nat\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n");
  EXPECT_EQ(out.text,
            "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j RETURN\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n"
            "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n");
  EXPECT_EQ(out.origin_lines, (std::vector<int>{1, 2, 3, 0, 4, 0, 0, 0}));
  EXPECT_EQ(out.origin, "dump.txt");
  // The installer's "line 4" is a line kpath added.
  EXPECT_EQ(locate_failure(out, "iptables-restore: line 4 failed"),
            "\n  failing rule (added by kpath): -A PREROUTING -j KUBE-SERVICES");
  EXPECT_EQ(locate_failure(out, "iptables-restore: line 3 failed"),
            "\n  failing rule (dump.txt:3): -A KUBE-SERVICES -j RETURN");
}

TEST(AddedLines, NothingToAddLeavesTheRulesAsWritten) {
  RuleSet rules{RuleBackend::IptablesRestore, "*filter\n-A INPUT -j DROP\nCOMMIT\n", "g", {}};
  EXPECT_EQ(with_added_lines(rules, "").text, rules.text);
}

}  // namespace
