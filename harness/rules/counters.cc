#include "harness/rules/counters.h"

#include <regex>
#include <set>
#include <sstream>

namespace harness {
namespace {

std::vector<std::string> tokens(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

bool is_action(const std::vector<std::string>& t, size_t i) {
  static const std::set<std::string> actions{"jump", "goto", "drop", "accept", "reject", "return", "dnat",
                                             "snat", "masquerade", "redirect", "notrack", "queue"};
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

std::vector<RuleHit> parse_rule_hits(const std::string& dump, RuleBackend backend) {
  std::vector<RuleHit> hits;
  std::istringstream in(dump);
  std::smatch m;
  if (backend == RuleBackend::Nft) {
    static const std::regex chain_re(R"(^\s*chain (\S+) \{)");
    static const std::regex counter_re(R"(counter packets (\d+) bytes \d+ ?)");
    std::string chain;
    bool in_kube_proxy = false;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("table ", 0) == 0) in_kube_proxy = line.find("kube-proxy") != std::string::npos;
      if (!in_kube_proxy) continue;
      if (std::regex_search(line, m, chain_re)) {
        chain = m[1];
        continue;
      }
      if (!std::regex_search(line, m, counter_re)) continue;
      RuleHit h{chain, {}, std::stoull(m[1])};
      std::string rule = std::regex_replace(line, counter_re, "");
      auto b = rule.find_first_not_of(" \t");
      h.rule = b == std::string::npos ? rule : rule.substr(b);
      hits.push_back(h);
    }
    return hits;
  }
  static const std::regex rule_re(R"(^\[(\d+):\d+\] -A (\S+) (.*)$)");
  for (std::string line; std::getline(in, line);) {
    if (!std::regex_match(line, m, rule_re)) continue;
    std::string chain = m[2], rest = m[3];
    bool kube = chain.rfind("KUBE-", 0) == 0 || rest.find("KUBE-") != std::string::npos;
    if (!kube) continue;
    hits.push_back({chain, "-A " + chain + " " + rest, std::stoull(m[1])});
  }
  return hits;
}

}  // namespace harness
