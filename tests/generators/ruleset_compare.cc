#include "tests/generators/ruleset_compare.h"

#include <sstream>

#include "base/strings.h"

namespace kpath_test {

namespace {

// The lines that hold something: trimmed, without blanks and comments.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& line : kpath::split_lines(text)) {
    std::string_view l = kpath::trim(line);
    if (l.empty() || l[0] == '#') continue;
    out.emplace_back(l);
  }
  return out;
}

std::string diff_rules(const std::string& where, const std::vector<std::string>& e, const std::vector<std::string>& a) {
  if (e == a) return "";
  std::ostringstream o;
  o << where << ":\n  expected:\n";
  for (const auto& r : e) o << "    " << r << "\n";
  o << "  actual:\n";
  for (const auto& r : a) o << "    " << r << "\n";
  return o.str();
}

template <typename Map>
std::set<std::string> keys(const Map& a, const Map& b) {
  std::set<std::string> k;
  for (const auto& [x, _] : a) k.insert(x);
  for (const auto& [x, _] : b) k.insert(x);
  return k;
}

}  // namespace

IptablesDump parse_iptables_restore(const std::string& text) {
  IptablesDump d;
  std::string table;
  for (const auto& l : lines_of(text)) {
    if (l[0] == '*') {
      table = l.substr(1);
      d.declared[table];
    } else if (l[0] == ':') {
      d.declared[table].insert(l.substr(1, l.find(' ') - 1));
    } else if (l.starts_with("-A ")) {
      std::string rest = l.substr(3);
      size_t sp = rest.find(' ');
      std::string chain = rest.substr(0, sp);
      d.rules[table][chain].push_back(sp == std::string::npos ? "" : rest.substr(sp + 1));
    } else if (l == "COMMIT") {
      table.clear();
    } else {
      d.rules[table]["<unparsed>"].push_back(l);
    }
  }
  return d;
}

NftDump parse_nft(const std::string& text) {
  NftDump d;
  const std::string prefix = "add rule ip kube-proxy ";
  for (const auto& l : lines_of(text)) {
    if (l.starts_with(prefix)) {
      std::string rest = l.substr(prefix.size());
      size_t sp = rest.find(' ');
      d.rules[rest.substr(0, sp)].push_back(sp == std::string::npos ? "" : rest.substr(sp + 1));
    } else {
      d.other.insert(l);
    }
  }
  return d;
}

std::string diff(const IptablesDump& expected, const IptablesDump& actual) {
  std::ostringstream o;
  for (const auto& table : keys(expected.declared, actual.declared)) {
    auto e = expected.declared.count(table) ? expected.declared.at(table) : std::set<std::string>{};
    auto a = actual.declared.count(table) ? actual.declared.at(table) : std::set<std::string>{};
    for (const auto& c : e)
      if (!a.count(c)) o << table << ": chain " << c << " not declared\n";
    for (const auto& c : a)
      if (!e.count(c)) o << table << ": unexpected chain declaration " << c << "\n";
  }
  for (const auto& table : keys(expected.rules, actual.rules)) {
    std::map<std::string, std::vector<std::string>> none;
    const auto& e = expected.rules.count(table) ? expected.rules.at(table) : none;
    const auto& a = actual.rules.count(table) ? actual.rules.at(table) : none;
    for (const auto& chain : keys(e, a))
      o << diff_rules(table + " " + chain, e.count(chain) ? e.at(chain) : std::vector<std::string>{},
                      a.count(chain) ? a.at(chain) : std::vector<std::string>{});
  }
  return o.str();
}

std::string diff(const NftDump& expected, const NftDump& actual) {
  std::ostringstream o;
  for (const auto& l : expected.other)
    if (expected.other.count(l) != actual.other.count(l)) o << "missing or miscounted: " << l << "\n";
  for (const auto& l : actual.other)
    if (!expected.other.count(l)) o << "unexpected: " << l << "\n";
  for (const auto& chain : keys(expected.rules, actual.rules))
    o << diff_rules("chain " + chain,
                    expected.rules.count(chain) ? expected.rules.at(chain) : std::vector<std::string>{},
                    actual.rules.count(chain) ? actual.rules.at(chain) : std::vector<std::string>{});
  return o.str();
}

}  // namespace kpath_test
