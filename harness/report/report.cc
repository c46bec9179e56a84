#include "harness/report/report.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/error.h"
#include "base/text.h"

namespace harness {

namespace {

double seconds(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1e6; }

}  // namespace

std::vector<PlannedExpectation> planned_expectations(const CaseRun& run) {
  std::string why = run.status == Status::Skip    ? run.error
                    : run.status == Status::Error ? "not run: " + run.error.substr(0, run.error.find('\n'))
                                                  : "interrupted";  // nothing else ends a run early
  std::vector<PlannedExpectation> out;
  for (const Expectation* e : run.planned) {
    auto it = std::find_if(run.expectations.begin(), run.expectations.end(),
                           [&](const ExpectationRun& er) { return er.expectation == e; });
    if (it != run.expectations.end()) out.push_back({e, &*it, ""});
    else out.push_back({e, nullptr, why});
  }
  return out;
}

std::string list_plan(const std::vector<Task>& tasks) {
  std::string out;
  for (const auto& task : tasks)
    for (const Expectation* e : task.expectations) out += list_line(task, *e) + "\n";
  return out;
}

RunEnvironment describe_environment(const std::string& kpath_version) {
  RunEnvironment env;
  env.kpath_version = kpath_version;
  env.host = fingerprint();
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0) env.hostname = name;
  env.started = std::chrono::system_clock::now();
  return env;
}

// The worst thing that happened decides: bad input first (nothing else is
// worth reading until it is fixed), then errors (verdicts are incomplete),
// then failures. A skipped run (a kernel feature is missing) is no failure,
// but a run in which nothing at all passed proved nothing: no success either.
ExitStatus Report::exit_status(bool skips_fail) const {
  if (!load_errors.empty()) return kExitBadInput;
  auto any = [&](Status s) {
    return std::any_of(runs.begin(), runs.end(), [&](const CaseRun& r) { return r.status == s; });
  };
  if (any(Status::Error)) return kExitEnvironment;
  if (any(Status::Fail)) return kExitFailed;
  if (!any(Status::Pass) || (skips_fail && any(Status::Skip))) return kExitNothingRan;
  return kExitPassed;
}

uint64_t Report::probes() const {
  uint64_t n = 0;
  for (const auto& r : runs) n += r.probes;
  return n;
}

// Text for a terminal is escaped as a whole where it is made (names, file
// names, errors and rule text in it may hold anything; docs/case-format.md).
std::string progress_line(const CaseRun& run, size_t index, size_t total) {
  if (run.status == Status::Skip)
    return kpath::escape_unprintable(fmt::format("[{}/{}] {:<5} {} ({})  {}", index, total, to_string(run.status),
                                                 run.case_name, run.generator, run.error),
                                     /*multiline=*/false);
  int passed = 0;
  for (const auto& e : run.expectations) passed += e.check.status == Status::Pass;
  return kpath::escape_unprintable(fmt::format("[{}/{}] {:<5} {} ({})  {}/{} expectations, {} probes, {:.2f}s", index,
                                               total, to_string(run.status), run.case_name, run.generator, passed,
                                               run.expectations.size(), run.probes, seconds(run.total)),
                                   /*multiline=*/false);
}

namespace {

// " [pod-a 1012, pod-b 988]", or "" when no backend answered.
std::string backend_counts(const CheckResult& c) {
  std::string s;
  for (const auto& [pod, n] : c.backends) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", pod, n);
  return s.empty() ? "" : " [" + s + "]";
}

}  // namespace

std::string summary(const Report& report, bool verbose) {
  // Columns as wide as their longest entry, so long names stay aligned.
  size_t case_w = 4, gen_w = 9;
  for (const auto& le : report.load_errors) case_w = std::max(case_w, le.file.size());
  for (const auto& run : report.runs) {
    case_w = std::max(case_w, run.case_name.size());
    gen_w = std::max(gen_w, run.generator.size());
  }
  auto row = [&](const std::string& status, const std::string& name, const std::string& gen, const std::string& what) {
    return fmt::format("{:<6} {:<{}} {:<{}} {}\n", status, name, case_w, gen, gen_w, what);
  };
  std::string out = "\n" + row("STATUS", "CASE", "GENERATOR", "EXPECTATION / RESULT");
  for (const auto& le : report.load_errors) out += row("ERROR", le.file, "-", "case file rejected");
  for (const auto& run : report.runs) {
    if (run.status == Status::Error && run.expectations.empty()) {
      out += row("ERROR", run.case_name, run.generator, "did not run");
      continue;
    }
    if (run.status == Status::Skip) {
      out += row("SKIP", run.case_name, run.generator, run.error);
      continue;
    }
    for (const auto& er : run.expectations)
      out += row(to_string(er.check.status), run.case_name, run.generator,
                 expectation_name(*er.expectation) + ": " + er.check.summary +
                     (verbose && er.check.status == Status::Pass ? backend_counts(er.check) : ""));
  }

  std::string details;
  for (const auto& le : report.load_errors) details += fmt::format("\nERROR {}\n  {}\n", le.file, le.message);
  for (const auto& run : report.runs) {
    if (run.status == Status::Pass || run.status == Status::Skip) continue;
    details += fmt::format("\n{} {} ({}) [{}]\n", to_string(run.status), run.case_name, run.generator, run.file);
    if (!run.error.empty()) details += "  " + run.error + "\n";
    for (const auto& er : run.expectations) {
      if (er.check.status == Status::Pass) continue;
      const auto& e = *er.expectation;
      details += fmt::format("  - {} ({}:{})\n    {} from {} to {}:{}/{} [{}{}]: {}\n",
                             expectation_name(*er.expectation), e.where.file, e.where.line, to_string(er.flow.kind),
                             e.from.str(), er.flow.target.str(), er.flow.port, to_string(er.flow.protocol),
                             er.flow.service.empty() ? "no service" : er.flow.service,
                             er.flow.via_node.empty() ? "" : ", via " + er.flow.via_node, er.check.summary);
      details += er.check.detail;
      if (!er.changes_in_force.empty()) details += "    endpoint changes in force: " + er.changes_in_force + "\n";
      details += er.diagnosis;
    }
    if (!run.diagnosis.empty()) details += "  " + run.diagnosis + "\n";
  }
  if (!details.empty()) out += "\nDetails:" + details;

  std::string added;
  for (const auto& run : report.runs)
    for (const auto& a : run.additions) added += fmt::format("  {} ({}): {}\n", run.case_name, run.generator, a);
  if (!added.empty()) out += "\nAdded by kpath, not written by the generator:\n" + added;
  out += convergence_report(report);

  int pass = 0, fail = 0, error = 0, skip = 0;
  for (const auto& run : report.runs) {
    if (run.status == Status::Error && run.expectations.empty()) {
      ++error;
      continue;
    }
    if (run.status == Status::Skip) {
      ++skip;
      continue;
    }
    for (const auto& er : run.expectations) {
      switch (er.check.status) {
        case Status::Pass: ++pass; break;
        case Status::Fail: ++fail; break;
        case Status::Error: ++error; break;
        case Status::Skip: ++skip; break;
      }
    }
    if (run.status == Status::Error && !run.expectations.empty()) ++error;
  }
  error += static_cast<int>(report.load_errors.size());
  out += fmt::format("\n{} runs, {} probes: {} passed, {} failed, {} errors, {} skipped{}\n", report.runs.size(),
                     report.probes(), pass, fail, error, skip, report.interrupted ? " (interrupted)" : "");
  return kpath::escape_unprintable(out);
}

std::string convergence_report(const Report& report) {
  std::string out;
  for (const auto& run : report.runs) {
    if (run.convergence.empty() && run.artifacts.empty()) continue;
    out += fmt::format("  {} ({}):\n", run.case_name, run.generator);
    for (const auto& c : run.convergence)
      out += fmt::format("    {:7.3f} s  {} ({})\n", std::chrono::duration<double>(c.elapsed).count(), c.change, c.how);
    for (const auto& a : run.artifacts) out += fmt::format("    kept {}\n", a);
  }
  if (out.empty()) return out;
  return "\nConvergence of running proxies (event to rules stable):\n" + out;
}

std::string coverage_report(const Report& report) {
  std::string out = "\nRule coverage (rules no probe moved, on any node, in any table):\n";
  for (const auto& run : report.runs) {
    if (run.coverage.empty()) continue;
    size_t hit = 0;
    for (const auto& c : run.coverage) hit += c.packets > 0;
    out += fmt::format("  {} ({}): {}/{} rules hit\n", run.case_name, run.generator, hit, run.coverage.size());
    for (const auto& c : run.coverage)
      if (c.packets == 0) out += fmt::format("    never hit: {} [{} {}] {}\n", c.node, c.table, c.chain, c.rule);
  }
  return kpath::escape_unprintable(out);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw kpath::Error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
}

void check_writable(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path);
  auto st = fs::status(p, ec);
  if (fs::exists(st)) {
    if (!fs::is_regular_file(st)) throw kpath::Error(fmt::format("cannot write report {}: not a regular file", path));
    if (::access(path.c_str(), W_OK) != 0)
      throw kpath::Error(fmt::format("cannot write report {}: {}", path, std::strerror(errno)));
    return;
  }
  fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (!fs::is_directory(dir, ec))
    throw kpath::Error(fmt::format("cannot write report {}: {} is not a folder", path, dir.string()));
  if (::access(dir.c_str(), W_OK) != 0)
    throw kpath::Error(fmt::format("cannot write report {}: {}: {}", path, dir.string(), std::strerror(errno)));
}

}  // namespace harness
