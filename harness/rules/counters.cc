#include "harness/rules/counters.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "base/error.h"
#include "base/strings.h"
#include "netns/nftables.h"
#include "netns/process.h"

namespace harness {
namespace {

std::vector<std::string> tokens(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

bool is_action(const std::vector<std::string>& t, size_t i) {
  static const std::set<std::string> actions{"jump", "goto", "drop",       "accept",   "reject",  "return",
                                             "dnat", "snat", "masquerade", "redirect", "notrack", "queue"};
  if (actions.count(t[i])) return true;
  return t[i] == "mark" && i + 1 < t.size() && t[i + 1] == "set";
}

}  // namespace

std::string add_nft_counters(const std::string& script) {
  std::istringstream in(script);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    auto t = tokens(line);
    // add rule FAMILY TABLE CHAIN <statements...>
    if (t.size() < 6 || t[0] != "add" || t[1] != "rule" || line.find(" counter") != std::string::npos) {
      out += line + "\n";
      continue;
    }
    size_t at = t.size();
    bool in_braces = false;
    for (size_t i = 5; i < t.size(); ++i) {
      if (t[i] == "{") in_braces = true;
      if (t[i] == "}") in_braces = false;
      if (!in_braces && (is_action(t, i) || t[i] == "vmap" || t[i] == "numgen")) {
        at = (t[i] == "vmap") ? 5 : i;  // a map lookup: count where the rule is evaluated
        break;
      }
      if (t[i] == "comment") break;
    }
    if (at == t.size()) at = 5;
    std::string rebuilt;
    for (size_t i = 0; i < t.size(); ++i) {
      if (i == at) rebuilt += "counter ";
      rebuilt += t[i] + (i + 1 < t.size() ? " " : "");
    }
    if (at >= t.size()) rebuilt += " counter";
    out += rebuilt + "\n";
  }
  return out;
}

std::vector<RuleCounter> parse_iptables_counters(const std::string& dump, const std::string& node) {
  std::vector<RuleCounter> out;
  static const std::regex rule_re(R"(^\[(\d+):\d+\] -A (\S+) (.*)$)");
  std::istringstream in(dump);
  std::string table;
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("*")) table = line.substr(1);
    if (!std::regex_match(line, m, rule_re)) continue;
    out.push_back({node, table, m[2], "-A " + m[2].str() + " " + m[3].str(), std::stoull(m[1])});
  }
  return out;
}

std::vector<RuleCounter> parse_nft_counters(const std::string& dump, const std::string& node) {
  std::vector<RuleCounter> out;
  static const std::regex table_re(R"(^table (\S+) (\S+) \{)");
  static const std::regex chain_re(R"(^\s*chain (\S+) \{)");
  static const std::regex counter_re(R"(counter packets (\d+) bytes \d+ ?)");
  static const std::regex handle_re(R"( # handle (\d+)\s*$)");
  std::istringstream in(dump);
  std::string table, chain;
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, m, table_re)) {
      table = m[1].str() + " " + m[2].str();
      continue;
    }
    if (std::regex_search(line, m, chain_re)) {
      chain = m[1];
      continue;
    }
    uint64_t handle = 0;
    if (std::regex_search(line, m, handle_re)) {
      handle = std::stoull(m[1]);
      line = line.substr(0, static_cast<size_t>(m.position(0)));
    }
    if (!std::regex_search(line, m, counter_re)) continue;
    uint64_t packets = std::stoull(m[1]);
    std::string rule = std::regex_replace(line, counter_re, "");
    out.push_back({node, table, chain, std::string(kpath::trim(rule)), packets, handle});
  }
  return out;
}

namespace {

// A tool's output, or nothing when the tool is not installed.
std::optional<std::string> tool_output(const netns::Namespace& ns, const std::vector<std::string>& argv,
                                       const InstallOptions& options) {
  netns::ProcessResult r;
  try {
    r = netns::run_process(ns, argv, {}, options.timeout);
  } catch (const kpath::Error&) {
    return std::nullopt;  // not in PATH
  }
  if (r.exit_code != 0) throw kpath::Error(fmt::format("{} failed: {}", argv[0], r.err));
  return r.out;
}

}  // namespace

NodeCounters::NodeCounters(const netns::Namespace& ns, std::string node, InstallOptions options)
    : ns_(ns), node_(std::move(node)), options_(options) {}

void NodeCounters::learn_rules() {
  known_ = true;
  by_handle_.clear();
  by_position_.clear();
  // iptables-nft's tables are nf_tables tables of family ip, ip6tables-nft's of ip6.
  if (options_.iptables == IptablesVariant::Nft)
    for (const auto& [tool, family] : {std::pair{"iptables-nft-save", "ip "}, std::pair{"ip6tables-nft-save", "ip6 "}})
      if (auto dump = tool_output(ns_, {tool, "-c"}, options_)) {
        std::map<std::pair<std::string, std::string>, int> positions;
        for (const auto& c : parse_iptables_counters(*dump, node_)) {
          std::string table = family + c.table;
          by_position_[{table, c.chain, positions[{table, c.chain}]++}] = c.rule;
        }
      }
  if (auto dump = tool_output(ns_, {"nft", "-a", "list", "ruleset"}, options_))
    for (const auto& c : parse_nft_counters(*dump, node_)) by_handle_[{c.table, c.chain, c.handle}] = c.rule;
}

std::vector<RuleCounter> NodeCounters::read() const {
  std::vector<RuleCounter> out;
  if (options_.iptables == IptablesVariant::Legacy) {
    if (auto dump = tool_output(ns_, {"iptables-legacy-save", "-c"}, options_))
      out = parse_iptables_counters(*dump, node_);
    // ip6tables-legacy's tables are told apart by their family ("ip6 nat").
    if (auto dump = tool_output(ns_, {"ip6tables-legacy-save", "-c"}, options_))
      for (auto& c : parse_iptables_counters(*dump, node_)) {
        c.table = "ip6 " + c.table;
        out.push_back(std::move(c));
      }
  }
  for (const auto& c : netns::nft_rule_counters(ns_))
    out.push_back({node_, c.table, c.chain, {}, c.packets, c.handle, c.position});
  return out;
}

void NodeCounters::name_rules(std::vector<RuleCounter>& counters) {
  for (auto& c : counters) {
    if (c.node != node_ || !c.rule.empty()) continue;
    if (!known_) learn_rules();
    if (auto p = by_position_.find({c.table, c.chain, c.position}); p != by_position_.end()) c.rule = p->second;
    else if (auto h = by_handle_.find({c.table, c.chain, c.handle}); h != by_handle_.end()) c.rule = h->second;
    else c.rule = fmt::format("rule handle {}", c.handle);
  }
}

namespace {

using RuleKey = std::tuple<std::string, std::string, std::string, uint64_t, std::string>;
using CounterKey = std::pair<RuleKey, int>;

RuleKey key_of(const RuleCounter& c) { return {c.node, c.table, c.chain, c.handle, c.rule}; }

// Each counter under its key; equal rules in one chain are told apart by order.
std::map<CounterKey, uint64_t> keyed(const std::vector<RuleCounter>& counters) {
  std::map<CounterKey, uint64_t> out;
  std::map<RuleKey, int> seen;
  for (const auto& c : counters) out[{key_of(c), seen[key_of(c)]++}] = c.packets;
  return out;
}

}  // namespace

std::vector<RuleCounter> counter_moves(const std::vector<RuleCounter>& before, const std::vector<RuleCounter>& after) {
  auto then = keyed(before);
  std::vector<RuleCounter> out;
  std::map<RuleKey, int> seen;
  for (const auto& c : after) {
    auto it = then.find({key_of(c), seen[key_of(c)]++});
    uint64_t was = it == then.end() || it->second > c.packets ? 0 : it->second;  // reset by a re-apply: from 0
    if (c.packets > was) out.push_back({c.node, c.table, c.chain, c.rule, c.packets - was, c.handle, c.position});
  }
  return out;
}

std::string describe_moves(const std::vector<RuleCounter>& moves, size_t max_lines) {
  if (moves.empty()) return "    no rule counter moved on any node\n";
  std::string out, node;
  size_t shown = 0;
  for (const auto& c : moves) {
    if (shown == max_lines) {
      out += fmt::format("    ... and {} more\n", moves.size() - shown);
      break;
    }
    if (c.node != node) out += fmt::format("    on {}:\n", node = c.node);
    out += fmt::format("      {:>7} packets  {} {}: {}\n", c.packets, c.table, c.chain, c.rule);
    ++shown;
  }
  return out;
}

}  // namespace harness
