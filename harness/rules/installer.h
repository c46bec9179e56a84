// Installs a RuleSet inside a node namespace the way a proxy does: through
// iptables-restore (nft or legacy variant) or `nft -f`, spawned inside the
// namespace. A rejected ruleset becomes kpath::Error carrying the installer's
// own message and the failing rule line.
#pragma once

#include <atomic>
#include <chrono>
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
  // SIGINT/SIGTERM: an installer or generator still running is killed (with
  // everything it started) within 50 ms; the run then reports "interrupted".
  const std::atomic<bool>* stop = nullptr;
};

// Prepares what kube-proxy prepares before it restores rules: the nfacct
// counters its rules name and route_localnet when localhost NodePorts are used.
// Idempotent (a sync prepares again). Returns what it did, one line each.
std::vector<std::string> prepare_for_rules(const netns::Namespace& node, const RuleSet& rules);

// noflush: iptables-restore --noflush (adds to the tables instead of replacing them).
void install_rules(const netns::Namespace& node, const RuleSet& rules, const InstallOptions& options,
                   bool noflush = false);

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
