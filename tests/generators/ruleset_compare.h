// Rulesets compared the way kube-proxy's own tests compare them: parsed into
// tables -> chains -> ordered rules; chain declarations and chains are
// order-insensitive, rules keep their order within a chain.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace kpath_test {

struct IptablesDump {
  // table -> declared chains ("KUBE-SERVICES" from ":KUBE-SERVICES - [0:0]")
  std::map<std::string, std::set<std::string>> declared;
  // table -> chain -> rules (the text after "-A CHAIN ")
  std::map<std::string, std::map<std::string, std::vector<std::string>>> rules;
  bool operator==(const IptablesDump&) const = default;
};
IptablesDump parse_iptables_restore(const std::string& text);

struct NftDump {
  std::multiset<std::string> other;                       // declarations and elements, sorted
  std::map<std::string, std::vector<std::string>> rules;  // chain -> rules in order
  bool operator==(const NftDump&) const = default;
};
// Parses "add rule ip kube-proxy CHAIN ..." lines per chain; every other
// non-blank, non-comment line goes to `other`.
NftDump parse_nft(const std::string& text);

// A readable account of how `actual` differs from `expected` ("" when equal).
std::string diff(const IptablesDump& expected, const IptablesDump& actual);
std::string diff(const NftDump& expected, const NftDump& actual);

}  // namespace kpath_test
