#include "harness/rules/installer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "base/error.h"
#include "harness/rules/nft_script.h"
#include "netns/netfilter.h"
#include "netns/netlink.h"
#include "netns/process.h"
#include "netns/sysctl.h"
#include "netns/user_namespace.h"

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

// Runs one installer with `text` on stdin inside the node; throws when it was
// stopped or timed out, returns its result otherwise.
netns::ProcessResult run_tool(const netns::Namespace& node, const std::vector<std::string>& argv,
                              const std::string& text, const InstallOptions& options) {
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
  return r;
}

// `text` (rules.text or rules.text6) with where it came from, for locate_failure.
RuleSet located(const std::string& text, const RuleSet& rules) {
  // Line numbers point into the text given: only the IPv4 text has origin lines.
  if (&text == &rules.text) return rules;
  return RuleSet{rules.backend, text, ipv6_origin(rules), {}};
}

// The error for an installer that exited non-zero, with the rule it points at.
kpath::Error rejected(const std::string& tool, const netns::ProcessResult& r, const RuleSet& where) {
  std::string message = first_lines(r.err.empty() ? r.out : r.err, 6);
  return kpath::Error(fmt::format("{} rejected the rules from {} (exit {}):\n  {}{}", tool,
                                  where.origin.empty() ? "the generator" : where.origin, r.exit_code, message,
                                  locate_failure(where, message)));
}

// The kernel refused the netlink batch as larger than the socket's send buffer.
bool too_long(const netns::ProcessResult& r) {
  return r.exit_code != 0 && (r.err + r.out).find("Message too long") != std::string::npos;
}

size_t rule_lines(const std::string& text) {
  size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.starts_with("-");
  return n;
}

// Runs `chunks` in order (the first with the input's flush mode, the rest
// --noflush). False when the kernel refused one as too long; a chunk rejected
// for any other reason throws.
bool restore_chunks(const netns::Namespace& node, const std::vector<std::string>& argv, bool noflush,
                    const std::vector<std::string>& chunks, const InstallOptions& options) {
  for (size_t i = 0; i < chunks.size(); ++i) {
    std::vector<std::string> a = argv;
    if (i > 0 || noflush) a.push_back("--noflush");
    netns::ProcessResult r = run_tool(node, a, chunks[i], options);
    if (too_long(r)) return false;
    if (r.exit_code == 0) continue;
    kpath::Error e = rejected(a.front(), r,
                              RuleSet{RuleBackend::IptablesRestore, chunks[i], "restore " + std::to_string(i + 1), {}});
    throw kpath::Error(fmt::format("{}\n  (restore {} of {}: kpath cut the rules up after 'Message too long')",
                                   e.what(), i + 1, chunks.size()));
  }
  return true;
}

std::string chunked_note(const std::string& tool, size_t chunks, bool noflush) {
  std::string why = "its netlink message was larger than the socket's send buffer";
  if (netns::in_user_namespace()) {
    auto wmem = host_wmem_default();
    why = fmt::format(
        "in a user namespace its netlink send buffer stays at the host's net.core.wmem_default ({}), since "
        "raising it (SO_SNDBUFFORCE) needs CAP_NET_ADMIN in the host's user namespace",
        wmem ? std::to_string(*wmem) + " bytes" : "unreadable");
  }
  return fmt::format(
      "{} refused the rules as one transaction (Message too long: {}), so kpath installed them in {} restores, in "
      "order: the first with every table and chain declaration{}, the rest --noflush with the remaining rules",
      tool, why, chunks, noflush ? "" : " (replacing the tables)");
}

// One iptables-restore of `text`; when the kernel refuses it as too long and
// its shape allows, again in ever smaller chunks. Each attempt starts over
// from the first chunk, which declares (so flushes) every chain a later rule
// goes to, or replaces the tables: whatever an earlier attempt left is
// replaced. Returns the note, if it took chunks.
std::optional<std::string> restore(const netns::Namespace& node, const std::vector<std::string>& argv, bool noflush,
                                   const std::string& text, const RuleSet& rules, const InstallOptions& options) {
  std::vector<std::string> a = argv;
  if (noflush) a.push_back("--noflush");
  netns::ProcessResult r = run_tool(node, a, text, options);
  if (r.exit_code == 0) return std::nullopt;
  if (!too_long(r)) throw rejected(argv.front(), r, located(text, rules));
  for (size_t k = (rule_lines(text) + 1) / 2; k > 0; k /= 2) {
    auto chunks = split_restore_input(text, k, noflush);
    if (!chunks || chunks->size() < 2) break;
    if (restore_chunks(node, argv, noflush, *chunks, options))
      return chunked_note(argv.front(), chunks->size(), noflush);
  }
  throw rejected(argv.front(), r, located(text, rules));
}

// One `nft -f` of the script, or for a large one (nft_script.h) one per part,
// in order. Returns the note, if it took several.
std::optional<std::string> nft_apply(const netns::Namespace& node, const RuleSet& rules,
                                     const InstallOptions& options) {
  const size_t anonymous = nft_anonymous_sets(rules.text);
  std::optional<std::vector<NftTransaction>> parts;
  const size_t per = options.nft_anonymous_sets_per_transaction;
  if (anonymous > per) parts = split_nft_script(rules.text, per);
  if (!parts || parts->size() < 2) {
    netns::ProcessResult r = run_tool(node, {"nft", "-f", "/dev/stdin"}, rules.text, options);
    if (r.exit_code != 0) throw rejected("nft", r, rules);
    return std::nullopt;
  }
  for (size_t i = 0; i < parts->size(); ++i) {
    const NftTransaction& part = (*parts)[i];
    netns::ProcessResult r = run_tool(node, {"nft", "-f", "/dev/stdin"}, part.text, options);
    if (r.exit_code == 0) continue;
    // Error lines point into the part; show the script's (or its source's) line.
    RuleSet where{RuleBackend::Nft, part.text, rules.origin, {}};
    for (int line : part.lines)
      where.origin_lines.push_back(line <= static_cast<int>(rules.origin_lines.size()) ? rules.origin_lines[line - 1]
                                                                                       : line);
    throw kpath::Error(fmt::format(
        "{}\n  (transaction {} of {}: kpath installs a script with more than {} anonymous-set rules in parts; "
        "the earlier ones went in)",
        rejected("nft", r, where).what(), i + 1, parts->size(), per));
  }
  return fmt::format(
      "nft -f took the script as {} transactions, in order, each with at most {} of its {} rules that bind an "
      "anonymous set or map: in one transaction the kernel binds each such rule by walking all of the "
      "transaction's changes, which is quadratic in the number of Services; the rules in place at the end are "
      "the same",
      parts->size(), per, anonymous);
}

}  // namespace

std::vector<std::string> install_rules(const netns::Namespace& node, const RuleSet& rules,
                                       const InstallOptions& options, bool noflush) {
  std::vector<std::string> notes;
  switch (rules.backend) {
    case RuleBackend::AppliedItself:
    case RuleBackend::None: return notes;
    case RuleBackend::IptablesRestore: {
      const std::string suffix = options.iptables == IptablesVariant::Nft ? "-nft-restore" : "-legacy-restore";
      auto argv = [&](const char* family) { return std::vector<std::string>{family + suffix, "-w", "5"}; };
      // An IPv6-only ruleset has no IPv4 text; everything else goes through iptables-restore as before.
      if (!rules.text.empty() || rules.text6.empty())
        if (auto note = restore(node, argv("iptables"), noflush, rules.text, rules, options)) notes.push_back(*note);
      if (!rules.text6.empty())
        if (auto note = restore(node, argv("ip6tables"), noflush, rules.text6, rules, options)) notes.push_back(*note);
      return notes;
    }
    case RuleBackend::Nft: {
      if (auto note = nft_apply(node, rules, options)) notes.push_back(*note);
      return notes;
    }
  }
  return notes;
}

namespace {

// One table of iptables-restore input, in the order its lines came.
struct TableBlock {
  std::string header;  // "*nat"
  std::vector<std::string> declarations;
  std::vector<std::string> rules;
};

// The chain a rule line names ("-A KUBE-SERVICES ..." -> "KUBE-SERVICES").
std::string rule_chain(const std::string& line) {
  std::istringstream in(line);
  std::string flag, chain;
  in >> flag >> chain;
  return chain;
}

// ":KUBE-SERVICES - [0:0]" -> "KUBE-SERVICES".
std::string declared_chain(const std::string& line) { return line.substr(1, line.find(' ') - 1); }

// A rule line chunking may move to a later restore: appends, inserts and
// chain deletions keep their meaning when run in order; anything else
// (policies, renames, flushes, -N) is left to one transaction.
bool movable_rule(const std::string& line) {
  return line.starts_with("-A ") || line.starts_with("-I ") || line.starts_with("-X ");
}

// The input's tables, or nullopt when its shape does not allow chunking (see split_restore_input).
std::optional<std::vector<TableBlock>> table_blocks(const std::string& text, bool noflush) {
  std::vector<TableBlock> blocks;
  std::set<std::string> declared;
  bool open = false;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.starts_with("#")) continue;
    if (line.starts_with("*")) {
      if (open) return std::nullopt;
      blocks.push_back(TableBlock{line, {}, {}});
      declared.clear();
      open = true;
    } else if (!open) {
      return std::nullopt;
    } else if (line == "COMMIT") {
      open = false;
    } else if (line.starts_with(":")) {
      if (!blocks.back().rules.empty()) return std::nullopt;
      declared.insert(declared_chain(line));
      blocks.back().declarations.push_back(line);
    } else if (movable_rule(line)) {
      if (noflush && !declared.count(rule_chain(line))) return std::nullopt;
      blocks.back().rules.push_back(line);
    } else {
      return std::nullopt;
    }
  }
  if (open) return std::nullopt;
  return blocks;
}

}  // namespace

std::optional<std::vector<std::string>> split_restore_input(const std::string& text, size_t rules_per_chunk,
                                                            bool noflush) {
  if (rules_per_chunk == 0) return std::nullopt;
  auto blocks = table_blocks(text, noflush);
  if (!blocks) return std::nullopt;
  size_t total = 0;
  for (const auto& block : *blocks) total += block.rules.size();
  const size_t count = std::max<size_t>(1, (total + rules_per_chunk - 1) / rules_per_chunk);
  // Rule number n (counted over all tables, in order) goes into chunk n / rules_per_chunk.
  std::vector<std::string> chunks(count);
  size_t n = 0;
  for (const auto& block : *blocks) {
    std::vector<std::string> body(count);
    for (const auto& d : block.declarations) body[0] += d + "\n";
    for (const auto& rule : block.rules) body[n++ / rules_per_chunk] += rule + "\n";
    for (size_t c = 0; c < count; ++c)
      if (c == 0 || !body[c].empty()) chunks[c] += block.header + "\n" + body[c] + "COMMIT\n";
  }
  return chunks;
}

std::optional<long> host_wmem_default() {
  std::ifstream in("/proc/sys/net/core/wmem_default");
  long value = 0;
  if (in >> value) return value;
  return std::nullopt;
}

std::string message_too_long_hint(const std::string& error, std::optional<long> wmem_default) {
  if (error.find("Message too long") == std::string::npos) return {};
  return fmt::format(
      "(Message too long: in a user namespace a netlink socket's send buffer stays at the host's "
      "net.core.wmem_default ({}), since raising it needs CAP_NET_ADMIN in the host's user namespace; an "
      "administrator can raise that host sysctl, or run kpath as root.)",
      wmem_default ? std::to_string(*wmem_default) + " bytes" : "unreadable here");
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
