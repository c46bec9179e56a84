// Installs a RuleSet inside a node namespace the way a proxy does: through
// iptables-restore (nft or legacy variant) or `nft -f`, spawned inside the
// namespace. A rejected ruleset becomes kpath::Error carrying the installer's
// own message and the failing rule line.
#pragma once

#include <chrono>
#include <string>

#include "harness/rules/ruleset.h"
#include "netns/namespace.h"

namespace harness {

enum class IptablesVariant { Nft, Legacy };
IptablesVariant parse_iptables_variant(const std::string& s);  // "nft" | "legacy"
std::string to_string(IptablesVariant v);

struct InstallOptions {
  IptablesVariant iptables = IptablesVariant::Nft;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

// Prepares what kube-proxy prepares before it restores rules: the nfacct
// counters its rules name and route_localnet when localhost NodePorts are used.
void prepare_for_rules(const netns::Namespace& node, const RuleSet& rules);

// noflush: iptables-restore --noflush (adds to the tables instead of replacing them).
void install_rules(const netns::Namespace& node, const RuleSet& rules, const InstallOptions& options,
                   bool noflush = false);

// A proxy's later sync: iptables text goes in with --noflush, without the
// built-in chains' declarations and jumps that the first install put in place
// (so another component's FORWARD policy and jumps stay); nft text as it is.
void reinstall_rules(const netns::Namespace& node, const RuleSet& rules, const InstallOptions& options);

// The rule an installer's error message points at ("line N", nft's
// "/dev/stdin:N:", or iptables-nft's "Chain 'X' does not exist", which names
// the jump target), quoted with its source line as "\n  failing rule
// (ORIGIN:LINE): RULE"; empty when the message points at no rule of `rules`.
std::string locate_failure(const RuleSet& rules, const std::string& message);

// The node's rules with packet counters, as text (iptables-save -c / nft list ruleset).
std::string dump_rules(const netns::Namespace& node, RuleBackend backend, const InstallOptions& options);

}  // namespace harness
