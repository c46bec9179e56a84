#include "harness/rules/installer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "base/error.h"
#include "netns/netfilter.h"
#include "netns/netlink.h"
#include "netns/process.h"
#include "netns/sysctl.h"

namespace harness {

IptablesVariant parse_iptables_variant(const std::string& s) {
  if (s == "nft") return IptablesVariant::Nft;
  if (s == "legacy") return IptablesVariant::Legacy;
  throw kpath::Error(fmt::format("--iptables must be 'nft' or 'legacy', got '{}'", s));
}

std::string to_string(IptablesVariant v) { return v == IptablesVariant::Nft ? "nft" : "legacy"; }

namespace {

std::string line_of(const std::string& text, int n) {
  std::istringstream in(text);
  std::string line;
  for (int i = 1; std::getline(in, line); ++i)
    if (i == n) return line;
  return {};
}

// Whether an iptables rule jumps or goes to `chain`: the whole name, not the
// prefix of a longer one.
bool jumps_to(const std::string& line, const std::string& chain) {
  for (const std::string flag : {"-j ", "-g "}) {
    const std::string want = flag + chain;
    for (auto at = line.find(want); at != std::string::npos; at = line.find(want, at + 1)) {
      auto end = at + want.size();
      if (end == line.size() || std::isspace(static_cast<unsigned char>(line[end]))) return true;
    }
  }
  return false;
}

}  // namespace

namespace {

// "failing rule (FILE:LINE): RULE"; line 0 is a line kpath added.
std::string failing_rule(const RuleSet& rules, int source_line, const std::string& rule) {
  if (source_line == 0) return fmt::format("\n  failing rule (added by kpath): {}", rule);
  return fmt::format("\n  failing rule ({}:{}): {}", rules.origin.empty() ? "input" : rules.origin, source_line, rule);
}

}  // namespace

std::string locate_failure(const RuleSet& rules, const std::string& message) {
  std::smatch m;
  // iptables-nft checks jumps at COMMIT, so its line number points there;
  // the rule to show is the one that jumps to the missing chain.
  static const std::regex missing_chain(R"(Chain '([^']+)' does not exist)");
  if (std::regex_search(message, m, missing_chain)) {
    std::istringstream in(rules.text);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (!jumps_to(line, m[1].str())) continue;
      int source_line = n <= static_cast<int>(rules.origin_lines.size()) ? rules.origin_lines[n - 1] : n;
      return failing_rule(rules, source_line, line);
    }
  }
  static const std::regex iptables_line(R"(line:? (\d+))");
  static const std::regex nft_line(R"(/dev/stdin:(\d+):)");
  if (!std::regex_search(message, m, nft_line) && !std::regex_search(message, m, iptables_line)) return {};
  if (m[1].length() > 9) return {};  // no line of any input
  int n = std::stoi(m[1]);
  int source_line = n;
  if (n >= 1 && n <= static_cast<int>(rules.origin_lines.size())) source_line = rules.origin_lines[n - 1];
  std::string rule = line_of(rules.text, n);
  if (rule.empty()) return {};
  return failing_rule(rules, source_line, rule);
}

namespace {

std::string first_lines(const std::string& s, int max_lines) {
  std::istringstream in(s);
  std::string out, line;
  for (int i = 0; i < max_lines && std::getline(in, line); ++i) out += (i ? "\n  " : "") + line;
  return out;
}

}  // namespace

std::vector<std::string> prepare_for_rules(const netns::Namespace& node, const RuleSet& rules) {
  std::vector<std::string> done;
  static const std::regex nfacct(R"(--nfacct-name\s+(\S+))");
  std::set<std::string> names;
  for (std::sregex_iterator it(rules.text.begin(), rules.text.end(), nfacct), end; it != end; ++it)
    names.insert((*it)[1]);
  for (const auto& name : names) {
    try {
      netns::nfacct_add(node, name);
      done.push_back("created the nfacct counter " + name + " (the rules name it)");
    } catch (const netns::NetlinkError& e) {
      if (e.code() != EBUSY) throw;  // made by an earlier sync: still there
    }
  }
  // kube-proxy enables route_localnet so 127.0.0.1:nodePort can be DNATed out.
  if (rules.text.find("127.0.0.0/8") != std::string::npos) {
    netns::set_sysctl(node, "net/ipv4/conf/all/route_localnet", "1");
    done.push_back("set net.ipv4.conf.all.route_localnet=1 (the rules DNAT 127.0.0.0/8)");
  }
  return done;
}

namespace {

// Where the IPv6 text came from: its own dump, or the IPv4 text's origin.
std::string ipv6_origin(const RuleSet& rules) {
  if (!rules.origin6.empty()) return rules.origin6;
  return rules.origin.empty() ? std::string{} : rules.origin + " (IPv6)";
}

// Runs one installer with `text` on stdin inside the node.
void run_installer(const netns::Namespace& node, const std::vector<std::string>& argv, const std::string& text,
                   const RuleSet& rules, const InstallOptions& options) {
  const std::string& tool = argv.front();
  // A big cluster's ruleset takes nft and iptables-restore a while (10,000
  // Services: tens of MB); the timeout grows by a second per 256 KiB of it.
  const auto timeout = std::max<std::chrono::milliseconds>(options.timeout, std::chrono::seconds(static_cast<int64_t>(
                                                                                text.size() >> 18)));
  netns::ProcessOptions run;
  run.input = text;
  run.timeout = timeout;
  run.stop = options.stop;
  netns::ProcessResult r = netns::run_process(node, argv, run);
  if (r.stopped) throw kpath::Error(tool + " interrupted");
  if (r.timed_out)
    throw kpath::Error(fmt::format("{} did not finish within {} ms: {}", tool, timeout.count(),
                                   r.err.empty() ? "(no message on stderr)" : r.err_tail()));
  if (r.exit_code != 0) {
    std::string message = first_lines(r.err.empty() ? r.out : r.err, 6);
    // Line numbers point into the text given: only the IPv4 text has origin lines.
    RuleSet located = rules;
    if (&text != &rules.text) located = RuleSet{rules.backend, text, ipv6_origin(rules), {}};
    throw kpath::Error(fmt::format("{} rejected the rules from {} (exit {}):\n  {}{}", tool,
                                   located.origin.empty() ? "the generator" : located.origin, r.exit_code, message,
                                   locate_failure(located, message)));
  }
}

}  // namespace

void install_rules(const netns::Namespace& node, const RuleSet& rules, const InstallOptions& options, bool noflush) {
  switch (rules.backend) {
    case RuleBackend::AppliedItself:
    case RuleBackend::None: return;
    case RuleBackend::IptablesRestore: {
      const bool nft = options.iptables == IptablesVariant::Nft;
      auto argv = [&](const char* family) {
        std::vector<std::string> a = {std::string(family) + (nft ? "-nft-restore" : "-legacy-restore"), "-w", "5"};
        if (noflush) a.push_back("--noflush");
        return a;
      };
      // An IPv6-only ruleset has no IPv4 text; everything else goes through iptables-restore as before.
      if (!rules.text.empty() || rules.text6.empty()) run_installer(node, argv("iptables"), rules.text, rules, options);
      if (!rules.text6.empty()) run_installer(node, argv("ip6tables"), rules.text6, rules, options);
      return;
    }
    case RuleBackend::Nft: run_installer(node, {"nft", "-f", "/dev/stdin"}, rules.text, rules, options); return;
  }
}

RuleSet with_added_lines(const RuleSet& rules, const std::string& extra) {
  // The extra lines, by table.
  std::map<std::string, std::vector<std::string>> add;
  std::vector<std::string> order;
  std::string table;
  std::istringstream ex(extra);
  for (std::string line; std::getline(ex, line);) {
    if (line.starts_with("*")) {
      table = line.substr(1);
      if (!add.count(table)) order.push_back(table);
      add[table];
    } else if (!table.empty() && line != "COMMIT" && !line.empty()) {
      add[table].push_back(line);
    }
  }
  RuleSet out{rules.backend, {}, rules.origin, {}, rules.text6, rules.origin6};
  auto emit = [&](const std::string& line, int origin) {
    out.text += line + "\n";
    out.origin_lines.push_back(origin);
  };
  std::istringstream in(rules.text);
  table.clear();
  int source = 0;
  for (std::string line; std::getline(in, line);) {
    ++source;
    int origin = source <= static_cast<int>(rules.origin_lines.size()) ? rules.origin_lines[source - 1] : source;
    if (line.starts_with("*")) table = line.substr(1);
    if (line == "COMMIT" && add.count(table)) {
      for (const auto& l : add[table]) emit(l, 0);
      add.erase(table);
    }
    emit(line, origin);
  }
  for (const auto& t : order) {
    if (!add.count(t)) continue;
    emit("*" + t, 0);
    for (const auto& l : add[t]) emit(l, 0);
    emit("COMMIT", 0);
  }
  return out;
}

}  // namespace harness
