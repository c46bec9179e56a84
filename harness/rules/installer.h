// Installs a RuleSet inside a node namespace the way a proxy does: through
// iptables-restore (nft or legacy variant) or `nft -f`, spawned inside the
// namespace. A rejected ruleset becomes kpath::Error carrying the installer's
// own message and the failing rule line.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "harness/rules/ruleset.h"
#include "netns/namespace.h"

namespace harness {

enum class IptablesVariant { Nft, Legacy };
IptablesVariant parse_iptables_variant(const std::string& s);  // "nft" | "legacy"
std::string to_string(IptablesVariant v);

struct InstallOptions {
  IptablesVariant iptables = IptablesVariant::Nft;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // An nft script with more rules that bind an anonymous set than this goes in
  // as several transactions of at most this many each (nft_script.h). Each
  // `nft -f` reads the table's chains first, so parts too small cost that read
  // many times: at 10,000 Services, 1,024 took a third of 256's time.
  size_t nft_anonymous_sets_per_transaction = 1024;
  // SIGINT/SIGTERM: an installer or generator still running is killed (with
  // everything it started) within 50 ms; the run then reports "interrupted".
  const std::atomic<bool>* stop = nullptr;
};

// Prepares what kube-proxy prepares before it restores rules: the nfacct
// counters its rules name and route_localnet when localhost NodePorts are used.
// Idempotent (a sync prepares again). Returns what it did, one line each.
std::vector<std::string> prepare_for_rules(const netns::Namespace& node, const RuleSet& rules);

// noflush: iptables-restore --noflush (adds to the tables instead of replacing them).
// Returns what the node's report should say about how the rules went in
// beyond one plain restore (empty almost always): iptables-restore input the
// kernel refused as one transaction ("Message too long", e.g. in a user
// namespace) is installed again in chunks (split_restore_input), and a note
// says so, why and in how many restores.
std::vector<std::string> install_rules(const netns::Namespace& node, const RuleSet& rules,
                                       const InstallOptions& options, bool noflush = false);

// iptables-restore input cut into restores that, run in order, leave what the
// whole input leaves: the first has every table header, every chain
// declaration and the first `rules_per_chunk` rule lines (run with the
// input's own flush mode); each later one has only the next rule lines under
// their table headers (run with --noflush: a declaration there would flush).
// Comments and blank lines are dropped. nullopt when the input's shape does
// not allow it: a declaration after a rule of its table, a line other than a
// header, declaration, COMMIT or -A/-I/-X rule, a table without COMMIT, or
// (noflush) a rule on a chain the input does not declare, which a retry after
// a partial install could not make right. rules_per_chunk 0: nullopt.
std::optional<std::vector<std::string>> split_restore_input(const std::string& text, size_t rules_per_chunk,
                                                            bool noflush);

// The host's net.core.wmem_default (/proc/sys/net/core/wmem_default): a
// netlink socket's send buffer, which an iptables-nft-restore in a user
// namespace cannot raise (SO_SNDBUFFORCE needs the host's CAP_NET_ADMIN);
// nullopt when it cannot be read.
std::optional<long> host_wmem_default();

// For an ERROR of a run in a user namespace whose message says "Message too
// long" (a program's own iptables-restore): one sentence saying why and what
// an administrator can raise; empty for any other message.
std::string message_too_long_hint(const std::string& error, std::optional<long> wmem_default);

// The rule an installer's error message points at ("line N", nft's
// "/dev/stdin:N:", or iptables-nft's "Chain 'X' does not exist", which names
// the jump target), quoted with its source line as "\n  failing rule
// (ORIGIN:LINE): RULE" ("(added by kpath)" for a line kpath added); empty when
// the message points at no rule of `rules`.
std::string locate_failure(const RuleSet& rules, const std::string& message);

// Adds `extra` (iptables-restore input, e.g. jumps kpath adds for a dump) to
// `rules` so both go in as one transaction per table: each extra line goes
// before the COMMIT of its table, or in a table block of its own. Lines kpath
// adds have origin line 0 ("added by kpath" in error messages).
RuleSet with_added_lines(const RuleSet& rules, const std::string& extra);

}  // namespace harness
