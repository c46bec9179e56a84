// iptables-restore input the kernel refuses as one transaction ("Message too
// long": in a user namespace iptables-nft-restore cannot raise its netlink
// send buffer) goes in again in chunks: the splitter, value in, value out, and
// the install in a real user namespace against the same input installed whole.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "base/errno.h"
#include "base/error.h"
#include "harness/rules/installer.h"
#include "netns/namespace.h"
#include "netns/process.h"
#include "netns/user_namespace.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

using Chunks = std::optional<std::vector<std::string>>;

const std::string kTwoTables =
    "# generated\n"
    "*filter\n"
    ":KUBE-FW - [0:0]\n"
    "-A KUBE-FW -j ACCEPT\n"
    "-A KUBE-FW -j DROP\n"
    "COMMIT\n"
    "*nat\n"
    ":KUBE-SVC - [0:0]\n"
    ":KUBE-SEP - [0:0]\n"
    ":KUBE-OLD - [0:0]\n"
    "\n"
    "-A KUBE-SVC -j KUBE-SEP\n"
    "-I KUBE-SEP 1 -j RETURN\n"
    "-X KUBE-OLD\n"
    "COMMIT\n";

TEST(SplitRestoreInput, DeclarationsAndFlushGoFirstThenRulesInOrder) {
  EXPECT_EQ(split_restore_input(kTwoTables, 2, false),
            Chunks({"*filter\n:KUBE-FW - [0:0]\n-A KUBE-FW -j ACCEPT\n-A KUBE-FW -j DROP\nCOMMIT\n"
                    "*nat\n:KUBE-SVC - [0:0]\n:KUBE-SEP - [0:0]\n:KUBE-OLD - [0:0]\nCOMMIT\n",
                    "*nat\n-A KUBE-SVC -j KUBE-SEP\n-I KUBE-SEP 1 -j RETURN\nCOMMIT\n",
                    "*nat\n-X KUBE-OLD\nCOMMIT\n"}));
}

TEST(SplitRestoreInput, AChunkMaySpanTwoTables) {
  EXPECT_EQ(split_restore_input(kTwoTables, 3, false),
            Chunks({"*filter\n:KUBE-FW - [0:0]\n-A KUBE-FW -j ACCEPT\n-A KUBE-FW -j DROP\nCOMMIT\n"
                    "*nat\n:KUBE-SVC - [0:0]\n:KUBE-SEP - [0:0]\n:KUBE-OLD - [0:0]\n-A KUBE-SVC -j KUBE-SEP\nCOMMIT\n",
                    "*nat\n-I KUBE-SEP 1 -j RETURN\n-X KUBE-OLD\nCOMMIT\n"}));
}

TEST(SplitRestoreInput, EveryRuleOnceInTheOriginalOrder) {
  auto chunks = split_restore_input(kTwoTables, 1, false);
  ASSERT_TRUE(chunks);
  EXPECT_EQ(chunks->size(), 5u);
  std::vector<std::string> rules;
  for (const auto& c : *chunks) {
    std::istringstream in(c);
    for (std::string line; std::getline(in, line);)
      if (line.starts_with("-")) rules.push_back(line);
  }
  EXPECT_EQ(rules, (std::vector<std::string>{"-A KUBE-FW -j ACCEPT", "-A KUBE-FW -j DROP", "-A KUBE-SVC -j KUBE-SEP",
                                             "-I KUBE-SEP 1 -j RETURN", "-X KUBE-OLD"}));
}

TEST(SplitRestoreInput, FewerRulesThanAChunkHoldsIsOneChunk) {
  EXPECT_EQ(split_restore_input("*nat\n:A - [0:0]\n-A A -j RETURN\nCOMMIT\n", 10, false),
            Chunks({"*nat\n:A - [0:0]\n-A A -j RETURN\nCOMMIT\n"}));
  EXPECT_EQ(split_restore_input("*nat\n:A - [0:0]\nCOMMIT\n", 10, false), Chunks({"*nat\n:A - [0:0]\nCOMMIT\n"}));
}

TEST(SplitRestoreInput, ShapesThatCannotBeCutUp) {
  // A declaration after a rule: in a later chunk it would flush what came before.
  EXPECT_EQ(split_restore_input("*nat\n:A - [0:0]\n-A A -j RETURN\n:B - [0:0]\n-A B -j RETURN\nCOMMIT\n", 1, false),
            std::nullopt);
  // Commands whose meaning depends on the single transaction.
  for (const char* line : {"-N B", "-P PREROUTING DROP", "-F A", "-E A B", "-D A 1", "-Z"})
    EXPECT_EQ(split_restore_input(std::string("*nat\n:A - [0:0]\n-A A -j RETURN\n") + line + "\nCOMMIT\n", 1, false),
              std::nullopt)
        << line;
  EXPECT_EQ(split_restore_input("*nat\n:A - [0:0]\n-A A -j RETURN\n", 1, false), std::nullopt);  // no COMMIT
  EXPECT_EQ(split_restore_input("-A A -j RETURN\n*nat\nCOMMIT\n", 1, false), std::nullopt);      // outside a table
  EXPECT_EQ(split_restore_input("*nat\n*filter\nCOMMIT\n", 1, false), std::nullopt);             // nested header
  EXPECT_EQ(split_restore_input(kTwoTables, 0, false), std::nullopt);
}

TEST(SplitRestoreInput, NoflushOnlyWhenEveryRuleGoesToADeclaredChain) {
  // A retry's first chunk flushes the declared chains, so a partial earlier
  // attempt is replaced; a rule on an undeclared chain would be doubled.
  EXPECT_EQ(split_restore_input("*nat\n:A - [0:0]\n-A A -j RETURN\n-A PREROUTING -j A\nCOMMIT\n", 1, true),
            std::nullopt);
  EXPECT_EQ(split_restore_input("*nat\n:A - [0:0]\n-A A -j RETURN\n-A A -j DROP\nCOMMIT\n", 1, true),
            Chunks({"*nat\n:A - [0:0]\n-A A -j RETURN\nCOMMIT\n", "*nat\n-A A -j DROP\nCOMMIT\n"}));
}

TEST(MessageTooLongHint, NamesTheSysctlAndItsValue) {
  std::string hint = message_too_long_hint("iptables-nft-restore: line 893 failed: Message too long", 212992);
  EXPECT_THAT(hint, HasSubstr("net.core.wmem_default (212992 bytes)"));
  EXPECT_THAT(hint, HasSubstr("user namespace"));
  EXPECT_THAT(hint, HasSubstr("administrator can raise"));
  EXPECT_THAT(message_too_long_hint("Message too long", std::nullopt), HasSubstr("(unreadable here)"));
  EXPECT_EQ(message_too_long_hint("iptables-nft-restore: line 3 failed: No chain/target/match by that name", 1), "");
}

// ---- the kernel: a real user namespace, whose iptables-nft-restore cannot raise its send buffer.

// A ruleset whose netlink batch is far larger than the default send buffer:
// `services` chains, each with a comment and a DNAT, jumped to from one chain.
// declare_late: one more chain declared after the rules (valid input whose
// shape cannot be cut up: a later restore's declaration would flush).
std::string big_ruleset(int services, bool declare_late = false) {
  std::string decl = ":KUBE-SERVICES - [0:0]\n";
  std::string rules;
  for (int i = 0; i < services; ++i) {
    const std::string chain = "KUBE-SVC-" + std::to_string(100000 + i);
    const std::string ip = "10.96." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    decl += ":" + chain + " - [0:0]\n";
    rules += "-A KUBE-SERVICES -d " + ip + "/32 -p tcp -m comment --comment \"default/svc-" + std::to_string(i) +
             ":http cluster IP\" -m tcp --dport 80 -j " + chain + "\n";
    rules += "-A " + chain + " -p tcp -m comment --comment \"default/svc-" + std::to_string(i) +
             ":http -> 10.244.1.2:8080\" -m tcp -j DNAT --to-destination 10.244.1.2:8080\n";
  }
  std::string late = declare_late ? ":KUBE-LATE - [0:0]\n-A KUBE-LATE -j RETURN\n" : "";
  return "*nat\n" + decl + rules + late + "COMMIT\n";
}

// The nat table as iptables-nft-save prints it, without comments or counters.
std::string saved_nat(const netns::Namespace& ns) {
  std::string out = netns::run_process(ns, {"iptables-nft-save", "-t", "nat"}, netns::ProcessOptions{}).out;
  out = std::regex_replace(out, std::regex(R"((^|\n)#[^\n]*)"), "");
  return std::regex_replace(out, std::regex(R"( \[\d+:\d+\])"), "");
}

// What an install inside a new user namespace did: its notes and the table
// after it, or its error.
struct UserNamespaceInstall {
  std::vector<std::string> notes;
  std::string saved;
  std::string error;
};

// Installs `text` in a network namespace of a fresh user namespace, in a child
// process (a threaded process cannot enter one), and hands back what it saw.
UserNamespaceInstall install_in_user_namespace(const std::string& text) {
  int out[2];
  if (::pipe(out) != 0) kpath::throw_errno("pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(out[0]);
    std::string report;
    try {
      netns::enter_user_namespace();
      netns::Namespace ns = netns::Namespace::create();
      for (const auto& note : install_rules(ns, RuleSet{RuleBackend::IptablesRestore, text, "big", {}}, {}))
        report += "NOTE " + note + "\n";
      report += "SAVED\n" + saved_nat(ns);
    } catch (const std::exception& e) {
      report = std::string("ERROR ") + e.what();
    }
    for (size_t at = 0; at < report.size();) {
      ssize_t n = ::write(out[1], report.data() + at, report.size() - at);
      if (n <= 0) break;
      at += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(out[1]);
  std::string got;
  char buf[65536];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  ::waitpid(pid, nullptr, 0);
  UserNamespaceInstall r;
  if (got.starts_with("ERROR ")) {
    r.error = got.substr(6);
    return r;
  }
  auto saved_at = got.find("SAVED\n");
  if (saved_at == std::string::npos) {
    r.error = "the child said nothing we understand: " + got;
    return r;
  }
  std::istringstream notes(got.substr(0, saved_at));
  for (std::string line; std::getline(notes, line);)
    if (line.starts_with("NOTE ")) r.notes.push_back(line.substr(5));
  r.saved = got.substr(saved_at + 6);
  return r;
}

bool can_make_user_namespaces() {
  return ::access("/proc/self/ns/user", F_OK) == 0 && netns::user_namespace_blockers().empty();
}

TEST(ChunkedInstall, InAUserNamespaceLeavesWhatOneTransactionLeaves) {
  KPATH_REQUIRE_NET_ADMIN();
  if (!can_make_user_namespaces()) GTEST_SKIP() << "unprivileged user namespaces are disabled here";
  const std::string text = big_ruleset(1500);
  netns::Namespace whole = netns::Namespace::create();
  std::vector<std::string> notes = install_rules(whole, RuleSet{RuleBackend::IptablesRestore, text, "big", {}}, {});
  // As the host's root iptables-nft-restore raises its buffer: one transaction.
  if (!netns::in_user_namespace()) {
    EXPECT_THAT(notes, IsEmpty());
  }
  const std::string expected = saved_nat(whole);
  ASSERT_THAT(expected, HasSubstr("-A KUBE-SVC-101499 -p tcp"));

  UserNamespaceInstall got = install_in_user_namespace(text);
  ASSERT_EQ(got.error, "");
  if (got.notes.empty())
    GTEST_SKIP() << "this host's net.core.wmem_default (" << host_wmem_default().value_or(-1)
                 << " bytes) holds the whole batch: nothing to cut up";
  ASSERT_EQ(got.notes.size(), 1u);
  EXPECT_THAT(got.notes[0], HasSubstr("Message too long: in a user namespace"));
  EXPECT_THAT(got.notes[0], HasSubstr("net.core.wmem_default (" + std::to_string(*host_wmem_default()) + " bytes)"));
  EXPECT_THAT(got.notes[0], testing::ContainsRegex("installed them in [0-9]+ restores"));
  EXPECT_EQ(got.saved, expected);
}

TEST(ChunkedInstall, AShapeThatCannotBeCutUpKeepsTheOriginalError) {
  KPATH_REQUIRE_NET_ADMIN();
  if (!can_make_user_namespaces()) GTEST_SKIP() << "unprivileged user namespaces are disabled here";
  UserNamespaceInstall got = install_in_user_namespace(big_ruleset(1500, /*declare_late=*/true));
  if (got.error.empty() && got.notes.empty())
    GTEST_SKIP() << "this host's net.core.wmem_default holds the whole batch: nothing was refused";
  EXPECT_THAT(got.notes, IsEmpty());
  EXPECT_THAT(got.error, HasSubstr("iptables-nft-restore rejected the rules from big"));
  EXPECT_THAT(got.error, HasSubstr("Message too long"));
  EXPECT_THAT(got.error, Not(HasSubstr("restore 1 of")));
}

}  // namespace
