// Rule counters: which rules the packets of a flow went through. iptables
// keeps a packet counter on every rule; nft rules have one where they carry a
// `counter` statement (kpath adds one to every nft rule with --coverage).
// Counters are read per node, before and after an expectation's probes, and
// the difference says where those probes went, for any generator.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "harness/rules/installer.h"
#include "harness/rules/ruleset.h"
#include "netns/namespace.h"

namespace harness {

// One rule's packet counter on one node, as the kernel lists it.
struct RuleCounter {
  std::string node;
  std::string table;  // "ip nat", "ip6 nat", "ip6 kube-proxy" (family and name); "nat", "ip6 nat" for iptables-legacy
  std::string chain;
  std::string rule;  // as listed (iptables-save form for iptables' rules), counters removed
  uint64_t packets = 0;
  uint64_t handle = 0;  // nf_tables' handle: a re-installed rule is a new rule; 0 for iptables-legacy
  int position = 0;     // its place in its chain, from 0
};

// Returns an nft script whose `add rule` lines carry a counter statement.
std::string add_nft_counters(const std::string& script);

// Every counted rule in `iptables-save -c` output: every table and chain.
std::vector<RuleCounter> parse_iptables_counters(const std::string& dump, const std::string& node);
// Every rule with a counter in `nft -a list ruleset` output (`nft list
// ruleset` works too; handles are then 0), in every table.
std::vector<RuleCounter> parse_nft_counters(const std::string& dump, const std::string& node);

// One node's rule counters. They are read in-process, one nf_tables netlink
// dump (iptables-nft's rules are nf_tables rules), without the rules' text;
// the text is read with the tools (iptables-save -c, nft -a list ruleset)
// only when someone needs it, once per ruleset. With iptables-legacy,
// iptables-legacy-save is read every time.
class NodeCounters {
 public:
  NodeCounters(const netns::Namespace& ns, std::string node, InstallOptions options);

  // The rules were replaced: text read before no longer applies.
  void rules_changed() { known_ = false; }
  // Every counted rule now (text empty where not known yet).
  std::vector<RuleCounter> read() const;
  // Fills in the text of this node's counters in `counters`, read from the
  // rules in place now.
  void name_rules(std::vector<RuleCounter>& counters);
  const std::string& node() const { return node_; }

 private:
  void learn_rules();

  const netns::Namespace& ns_;
  std::string node_;
  InstallOptions options_;
  bool known_ = false;
  // (table, chain, handle) -> text for nft's own rules; (table, chain,
  // position) -> text for iptables-nft's, which nft would print as xt matches.
  std::map<std::tuple<std::string, std::string, uint64_t>, std::string> by_handle_;
  std::map<std::tuple<std::string, std::string, int>, std::string> by_position_;
};

// The rules whose counters moved from `before` to `after`, with the packets
// in between. Rules are matched by node, table, chain, handle, text and
// occurrence; a rule that is new in `after` (re-installed) counts from zero.
std::vector<RuleCounter> counter_moves(const std::vector<RuleCounter>& before, const std::vector<RuleCounter>& after);

// "where the probes went", one line per rule that moved, grouped by node.
std::string describe_moves(const std::vector<RuleCounter>& moves, size_t max_lines = 30);

}  // namespace harness
