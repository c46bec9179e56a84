// The failure locator, without a kernel: installers' own error messages (as
// iptables-restore, iptables-legacy-restore and nft print them) against the
// text they were given, and the source rule quoted back with its origin line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/rules/installer.h"

namespace {

using namespace harness;

const std::string kIptables =
    "*nat\n"                                               // 1
    ":KUBE-SERVICES - [0:0]\n"                             // 2
    ":KUBE-SVC-ABC - [0:0]\n"                              // 3
    "-A KUBE-SERVICES -d 10.96.0.10/32 -j KUBE-SVC-ABC\n"  // 4
    "-A KUBE-SERVICES -d 10.96.0.11/32 -j KUBE-SVC-AB\n"   // 5
    "-A KUBE-SVC-ABC -g KUBE-SEP-XYZ\n"                    // 6
    "COMMIT\n";                                            // 7

struct LocateRow {
  std::string name;
  RuleSet rules;
  std::string message;
  std::string want;  // "" : the message points at no rule
};

TEST(LocateFailure, QuotesTheRuleTheMessagePointsAt) {
  const RuleSet iptables{RuleBackend::IptablesRestore, kIptables, "node.iptables-save", {}};
  // An nft script reordered from a file: text line i came from origin_lines[i-1].
  const RuleSet nft{RuleBackend::Nft,
                    "add table ip t\nadd chain ip t c\nadd rule ip t c jump nowhere\n",
                    "dump.nft",
                    {2, 5, 1}};
  const std::vector<LocateRow> rows = {
      {"iptables-restore's line number", iptables, "iptables-restore: line 4 failed",
       "\n  failing rule (node.iptables-save:4): -A KUBE-SERVICES -d 10.96.0.10/32 -j KUBE-SVC-ABC"},
      {"iptables-legacy-restore's line number", iptables,
       "iptables-restore v1.8.9 (legacy): Couldn't load target `KUBE-SEP-XYZ':No such file or directory\n\n"
       "Error occurred at line: 6",
       "\n  failing rule (node.iptables-save:6): -A KUBE-SVC-ABC -g KUBE-SEP-XYZ"},
      // iptables-nft reports the COMMIT line; the rule to show is the jump.
      {"a missing goto target names the rule, not COMMIT", iptables,
       "iptables-restore v1.8.9 (nf_tables): Chain 'KUBE-SEP-XYZ' does not exist\nError occurred at line: 7",
       "\n  failing rule (node.iptables-save:6): -A KUBE-SVC-ABC -g KUBE-SEP-XYZ"},
      // KUBE-SVC-AB is a prefix of KUBE-SVC-ABC, whose jump comes first.
      {"a missing jump target is matched as a whole name", iptables,
       "iptables-restore v1.8.9 (nf_tables): Chain 'KUBE-SVC-AB' does not exist\nError occurred at line: 7",
       "\n  failing rule (node.iptables-save:5): -A KUBE-SERVICES -d 10.96.0.11/32 -j KUBE-SVC-AB"},
      {"a missing chain no rule jumps to falls back to the line", iptables,
       "Chain 'KUBE-OTHER' does not exist\nError occurred at line: 2",
       "\n  failing rule (node.iptables-save:2): :KUBE-SERVICES - [0:0]"},
      {"nft's position maps through the origin lines", nft,
       "/dev/stdin:3:1-30: Error: Could not process rule: No such file or directory\n"
       "add rule ip t c jump nowhere\n^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
       "\n  failing rule (dump.nft:1): add rule ip t c jump nowhere"},
      {"no origin says input", RuleSet{RuleBackend::IptablesRestore, kIptables, "", {}},
       "iptables-restore: line 1 failed", "\n  failing rule (input:1): *nat"},
      {"a message without a position", iptables, "iptables-restore: unable to initialize table 'nat'", ""},
      {"a line past the end of the text", iptables, "iptables-restore: line 40 failed", ""},
      {"an nft position past the end of the text", nft, "/dev/stdin:9:1-3: Error: syntax error", ""},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(locate_failure(row.rules, row.message), row.want);
  }
}

}  // namespace
