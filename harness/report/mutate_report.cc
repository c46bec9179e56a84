#include "harness/report/mutate_report.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>

#include "base/error.h"
#include "base/text.h"
#include "harness/generators/registry.h"

namespace harness {

namespace {

using MV = MutantResult::Verdict;

[[noreturn]] void fail_at(const std::string& path, const YAML::Node& n, const std::string& message) {
  int line = n.IsDefined() ? n.Mark().line + 1 : 0;
  throw kpath::Error(path, line, n.IsDefined() ? n.Mark().column + 1 : 0, message);
}

std::string scalar(const std::string& path, const YAML::Node& entry, const char* key, bool required) {
  YAML::Node v = entry[key];
  if (!v) {
    if (required) fail_at(path, entry, fmt::format("an unobservable entry needs '{}'", key));
    return "";
  }
  if (!v.IsScalar() || v.Scalar().empty()) fail_at(path, v, fmt::format("'{}' must be a non-empty string", key));
  return v.Scalar();
}

Unobservable entry_from(const std::string& path, const YAML::Node& n) {
  if (!n.IsMap()) fail_at(path, n, "each unobservable entry is a map (generator/mode, rule, change, reason)");
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    if (key != "generator" && key != "mode" && key != "family" && key != "rule" && key != "change" && key != "reason")
      fail_at(path, kv.first, "unknown key '" + key + "' (want generator, mode, family, rule, change, reason)");
  }
  Unobservable u;
  u.where = fmt::format("{}:{}", path, n.Mark().line + 1);
  u.generator = scalar(path, n, "generator", false);
  if (std::string mode = scalar(path, n, "mode", false); !mode.empty()) {
    if (mode == "iptables") u.mode = ProxyMode::Iptables;
    else if (mode == "nftables") u.mode = ProxyMode::Nftables;
    else fail_at(path, n["mode"], "mode must be iptables or nftables");
  }
  if (std::string family = scalar(path, n, "family", false); !family.empty()) {
    if (family == "IPv4") u.ipv6 = false;
    else if (family == "IPv6") u.ipv6 = true;
    else fail_at(path, n["family"], "family must be IPv4 or IPv6");
  }
  if (std::string change = scalar(path, n, "change", false); !change.empty()) {
    if (change == "removed") u.change = Mutant::Change::Removed;
    else if (change == "perturbed") u.change = Mutant::Change::Perturbed;
    else fail_at(path, n["change"], "change must be removed or perturbed");
  }
  u.pattern = scalar(path, n, "rule", true);
  try {
    u.rule = std::regex(u.pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    fail_at(path, n["rule"], fmt::format("'{}' is not a regular expression ({})", u.pattern, e.what()));
  }
  u.reason = scalar(path, n, "reason", true);
  return u;
}

std::string esc(const std::string& s) { return kpath::escape_unprintable(s, false); }

std::string survivors_table(const MutationResult& result) {
  std::string out;
  for (const auto& r : result.mutants)
    if (r.verdict == MV::Survived)
      out += fmt::format("  {}  {}\n      in {}\n", esc(r.generator), esc(r.mutant.describe()), esc(r.where));
  return out.empty() ? "" : "\nSurvivors (every case they appear in, CASE@NODES, still passed):\n" + out;
}

std::string unobservable_list(const MutationResult& result, const std::vector<Unobservable>& declared) {
  std::map<const Unobservable*, size_t> matched;
  for (const auto& r : result.mutants)
    if (r.verdict == MV::Unobservable) ++matched[r.declared];
  if (matched.empty()) return "";
  std::string out = "\nDeclared unobservable (not run):\n";
  for (const auto& d : declared)
    if (auto it = matched.find(&d); it != matched.end())
      out += fmt::format("  {} mutant(s) of /{}/ ({}{}): {}\n", it->second, esc(d.pattern),
                         d.generator.empty() ? (d.mode ? to_string(*d.mode) + " mode" : "any generator")
                                             : esc(d.generator),
                         d.change ? (*d.change == Mutant::Change::Removed ? ", removed" : ", perturbed") : "",
                         esc(d.reason));
  return out;
}

std::string listed(const MutationResult& result, MV verdict, bool install_only, const char* title) {
  std::string out;
  for (const auto& r : result.mutants) {
    if (r.verdict != verdict) continue;
    if (install_only && !r.message.starts_with("install failed")) continue;
    std::string by = r.expectation.empty() ? "" : esc(r.expectation) + ": ";
    out += fmt::format("  {}  {}\n      in {}\n      {}{}{}\n", esc(r.generator), esc(r.mutant.describe()),
                       esc(r.where), r.killed_by.empty() ? "" : esc(r.killed_by) + ": ", by, esc(r.message));
  }
  return out.empty() ? "" : fmt::format("\n{}\n{}", title, out);
}

}  // namespace

std::vector<Unobservable> load_unobservable(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw kpath::Error(fmt::format("{}: cannot read the unobservable-mutant list", path));
  } catch (const YAML::Exception& e) {
    throw kpath::Error(path, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  if (!root.IsMap() || !root["unobservable"] || !root["unobservable"].IsSequence())
    fail_at(path, root, "expected a map with 'unobservable:', a list of entries");
  std::vector<Unobservable> out;
  for (const auto& n : root["unobservable"]) out.push_back(entry_from(path, n));
  return out;
}

std::string list_mutants(const std::vector<Task>& tasks, const std::vector<Unobservable>& declared) {
  std::string out;
  for (const auto& m : plan_all_mutants(tasks)) {
    const Task& t = tasks[m.sites.front().task];
    bool unobservable = std::any_of(declared.begin(), declared.end(), [&](const Unobservable& d) {
      return d.covers(m, t.generator.name(), t.generator.mode);
    });
    out += fmt::format("{}\t{}\t{}{}\n", t.generator.name(), m.describe(), describe_sites(m, tasks),
                       unobservable ? "\tunobservable" : "");
  }
  return out;
}

std::string mutation_summary(const MutationResult& result) {
  std::string line = fmt::format("mutants: {} killed, {} survived, {} unobservable", result.count(MV::Killed),
                                 result.count(MV::Survived), result.count(MV::Unobservable));
  if (size_t errors = result.count(MV::Error)) line += fmt::format(", {} errors", errors);
  return line;
}

std::string format_mutation(const MutationResult& result, const std::vector<Unobservable>& declared, bool verbose) {
  std::string out;
  if (verbose) out += listed(result, MV::Killed, false, "Killed (the expectation that failed first):");
  out += survivors_table(result);
  if (!result.unmeasured.empty()) {
    out += "\nNot measured (a run must pass unmutated before its mutants can be judged):\n";
    for (const auto& u : result.unmeasured)
      out += fmt::format("  {} ({}): {}\n", esc(u.case_name), esc(u.generator), esc(u.why));
  }
  out += listed(result, MV::Error, false, "Errors (the mutant's run neither passed nor failed):");
  out += listed(result, MV::Killed, true,
                "Killed because the installer refused the mutated rules (a generator writing them errors every run):");
  out += unobservable_list(result, declared);
  if (result.interrupted) out += "\nInterrupted: the counts cover the mutants that finished.\n";
  return out + "\n" + mutation_summary(result) + "\n";
}

int mutation_exit_status(const MutationResult& result) {
  bool incomplete = std::any_of(result.unmeasured.begin(), result.unmeasured.end(),
                                [](const UnmeasuredRun& u) { return !u.why.starts_with("skipped"); });
  if (incomplete || result.count(MV::Error) > 0) return 3;
  return result.count(MV::Survived) > 0 ? 1 : 0;
}

MutantProgress::~MutantProgress() {
  if (live_ && drawn_) std::fputs("\r\033[K", out_);
  std::fflush(out_);
}

void MutantProgress::started(size_t total) {
  std::fprintf(out_, "kpath mutate: %zu mutant(s) to run\n", total);
  std::fflush(out_);
}

void MutantProgress::done(const MutantResult& r, size_t finished, size_t total) {
  if (r.verdict == MV::Killed) ++killed_;
  if (r.verdict == MV::Survived) ++survived_;
  if (r.verdict == MV::Error) ++errors_;
  std::string status = fmt::format("mutant {}/{}: {} killed, {} survived{}", finished, total, killed_, survived_,
                                   errors_ ? fmt::format(", {} errors", errors_) : "");
  if (live_) std::fputs("\r\033[K", out_);
  if (r.verdict == MV::Survived || r.verdict == MV::Error)
    std::fprintf(out_, "%s %s %s (in %s)\n", r.verdict == MV::Survived ? "SURVIVED" : "ERROR", esc(r.generator).c_str(),
                 esc(r.mutant.describe()).c_str(), esc(r.where).c_str());
  if (live_) {
    std::fputs(status.c_str(), out_);
    drawn_ = true;
  } else if (finished % 25 == 0 || finished == total) {
    std::fprintf(out_, "%s\n", status.c_str());
  }
  std::fflush(out_);
}

}  // namespace harness
