// Rule-hit coverage: which generated rules no probe ever hit. iptables keeps
// a packet counter per rule; for nft, kpath adds a `counter` statement in front
// of each rule's action before installing (rules whose action is a verdict-map
// lookup are counted where they are evaluated, which is where they hit too
// unless a match precedes the lookup).
#pragma once

#include <string>
#include <vector>

#include "harness/rules/ruleset.h"

namespace harness {

struct RuleHit {
  std::string chain;
  std::string rule;  // the rule as the kernel lists it, counters removed
  uint64_t packets = 0;
};

// Returns an nft script whose `add rule` lines carry a counter statement.
std::string add_nft_counters(const std::string& script);

// Parses `iptables-save -c` (KUBE-* chains and kube-proxy's base-chain jumps)
// or `nft list ruleset` (table kube-proxy) output into per-rule hits.
std::vector<RuleHit> parse_rule_hits(const std::string& dump, RuleBackend backend);

}  // namespace harness
