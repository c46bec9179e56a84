#include "harness/report/behaviour_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <sys/socket.h>

#include "harness/report/catalogue.h"

namespace harness {
namespace {

struct Cell {
  bool any = false, fail = false, error = false, skip = false;
  std::set<std::string> declared;  // "expectation: refused"
};

std::string render(const Cell& c) {
  if (!c.any) return "not covered";
  if (c.error) return "ERROR";
  if (c.fail) return "FAIL";
  if (c.skip) return "SKIP";
  if (c.declared.empty()) return "PASS";
  std::string s = "PASS, by design: ";
  bool first = true;
  for (const auto& d : c.declared) {
    s += (first ? "" : "; ") + d;
    first = false;
  }
  return s;
}

// The family an expectation ran in: its target's, else the run's primary one.
int family_of(const ExpectationRun& er, const CaseRun& run) {
  if (er.flow.target.valid()) return er.flow.target.family();
  return run.families.empty() ? AF_INET : run.families.front();
}

using CellKey = std::tuple<std::string, std::string, int>;  // (behaviour, generator, family)

void add_run(const CaseRun& run, std::map<CellKey, Cell>& cells, std::set<int>& families) {
  std::vector<int> all = run.families.empty() ? std::vector<int>{AF_INET} : run.families;
  // A run that did not get to its expectations (or failed outside them) counts for every family it has.
  bool any_failed = false;
  for (const auto& er : run.expectations) {
    const Expectation& e = *er.expectation;
    const int f = family_of(er, run);
    families.insert(f);
    Cell& c = cells[{run.behaviour, run.generator, f}];
    c.any = true;
    c.fail |= er.check.status == Status::Fail;
    any_failed |= er.check.status == Status::Fail;
    Verdict v = expected_verdict(e, run.generator, run.mode);
    if (v != e.result) c.declared.insert(fmt::format("{} ({})", to_string(v), e.name));
  }
  const bool said_by_expectations = !run.expectations.empty() &&
                                    (run.status == Status::Pass || (run.status == Status::Fail && any_failed));
  if (said_by_expectations) return;
  for (int f : all) {
    families.insert(f);
    Cell& c = cells[{run.behaviour, run.generator, f}];
    c.any = true;
    c.fail |= run.status == Status::Fail;
    c.error |= run.status == Status::Error;
    c.skip |= run.status == Status::Skip;
  }
}

}  // namespace

std::string behaviour_table(const Report& report) {
  std::vector<std::string> generators;
  std::set<int> families;
  std::map<CellKey, Cell> cells;
  std::map<std::string, std::set<std::string>> cases;
  for (const auto& run : report.runs) {
    if (run.behaviour.empty()) continue;
    if (std::find(generators.begin(), generators.end(), run.generator) == generators.end())
      generators.push_back(run.generator);
    cases[run.behaviour].insert(run.case_name);
    add_run(run, cells, families);
  }
  // The catalogue's rows in its order, then the cases' own labels.
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& b : catalogue()) rows.emplace_back(b.id, b.title);
  for (const auto& [label, names] : cases)
    if (std::none_of(rows.begin(), rows.end(), [&](const auto& r) { return r.first == label; }))
      rows.emplace_back(label, "(a case's own label)");

  std::string out = "| # | behaviour | cases |";
  size_t columns = 0;
  for (const auto& g : generators)
    for (int f : families) {
      out += " " + g + " " + family_name(f) + " |";
      ++columns;
    }
  out += "\n|---|---|---|";
  for (size_t i = 0; i < columns; ++i) out += "---|";
  out += "\n";
  for (const auto& [label, title] : rows) {
    std::string names;
    for (const auto& n : cases[label]) names += (names.empty() ? "" : ", ") + n;
    out += fmt::format("| {} | {} | {} |", label, title, names.empty() ? "—" : names);
    for (const auto& g : generators)
      for (int f : families) out += " " + render(cells[{label, g, f}]) + " |";
    out += "\n";
  }
  return out;
}

}  // namespace harness
