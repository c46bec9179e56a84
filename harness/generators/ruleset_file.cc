#include "harness/generators/ruleset_file.h"

#include "base/error.h"
#include "base/strings.h"
#include "base/text.h"
#include "harness/model/ruleset_text.h"

namespace harness {
namespace {

using kpath::split_lines;
using kpath::starts_with_any;
using kpath::trim;

// A dump line in a message: short and escaped (a dump may hold anything).
std::string shown(const std::string& line) { return kpath::escaped_prefix(line, 60); }

bool looks_like_iptables_save(const std::vector<std::string>& lines) {
  for (const auto& raw : lines) {
    std::string l(trim(raw));
    if (l.empty() || l[0] == '#') continue;
    return l[0] == '*' || l[0] == ':' || l[0] == '-' || l == "COMMIT";
  }
  return false;
}

}  // namespace

void check_iptables_save(const std::string& text, const std::string& file) {
  auto lines = split_lines(text);
  std::string table;
  int table_line = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    int n = static_cast<int>(i) + 1;
    std::string l(trim(lines[i]));
    if (l.empty() || l[0] == '#') continue;
    if (l[0] == '*') {
      if (!table.empty())
        throw kpath::Error(file, n, 1,
                           "table *" + shown(l.substr(1)) + " starts before table *" + shown(table) + " (line " +
                               std::to_string(table_line) + ") was closed with COMMIT");
      table = l.substr(1);
      table_line = n;
      continue;
    }
    if (table.empty()) throw kpath::Error(file, n, 1, "expected a table line such as *nat before '" + shown(l) + "'");
    if (l == "COMMIT") {
      table.clear();
      continue;
    }
    if (l[0] == ':') continue;
    if (l[0] != '-')
      throw kpath::Error(file, n, 1,
                         "not an iptables-save line: a rule must start with an option such as "
                         "-A CHAIN, found '" +
                             shown(l) + "'");
  }
  if (!table.empty()) throw kpath::Error(file, table_line, 1, "table *" + shown(table) + " has no COMMIT line");
}

RuleSet order_nft_declarations_first(const std::string& text, const std::string& file) {
  auto lines = split_lines(text);
  // Rank: table, then chains/sets/maps/other objects, then flushes and
  // deletes, then rules and elements, which may refer to any declaration.
  auto rank = [](const std::string& l) {
    if (starts_with_any(l, {"add table", "table"})) return 0;
    if (starts_with_any(l, {"add chain", "add set", "add map", "add counter", "add quota", "add flowtable"})) return 1;
    if (starts_with_any(l, {"flush", "delete"})) return 2;
    return 3;
  };
  bool transaction_style = true;
  for (const auto& raw : lines) {
    std::string l(trim(raw));
    if (l.empty() || l[0] == '#') continue;
    if (!starts_with_any(l, {"add ", "flush ", "delete ", "insert ", "replace "})) transaction_style = false;
  }
  RuleSet rs{RuleBackend::Nft, {}, file, {}};
  if (!transaction_style) {  // a structured nft script: keep it as written
    rs.text = text;
    return rs;
  }
  for (int r = 0; r <= 3; ++r) {
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string l(trim(lines[i]));
      if (l.empty() || l[0] == '#' || rank(l) != r) continue;
      rs.text += lines[i] + "\n";
      rs.origin_lines.push_back(static_cast<int>(i) + 1);
    }
  }
  return rs;
}

std::string RulesetFileGenerator::name() const { return spec_.name(); }

RuleSet RulesetFileGenerator::generate(const Cluster& cluster, const std::string& node) const {
  if (!cluster.node(node)) throw kpath::Error("ruleset: no node '" + node + "' in the cluster");
  // A node without a dump only routes (its pods answer on their own addresses).
  std::string path = spec_.dump_for(node, cluster.nodes.front().name);
  if (path.empty()) return RuleSet{RuleBackend::None, {}, spec_.argument, {}};
  std::string text = read_ruleset_file(path);  // never blocks on a FIFO; size-limited
  auto lines = split_lines(text);
  if (looks_like_iptables_save(lines)) {
    check_iptables_save(text, path);
    return RuleSet{RuleBackend::IptablesRestore, text, path, {}};
  }
  return order_nft_declarations_first(text, path);
}

}  // namespace harness
