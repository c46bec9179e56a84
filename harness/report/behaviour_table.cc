#include "harness/report/behaviour_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

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

}  // namespace

std::string behaviour_table(const Report& report) {
  std::vector<std::string> generators;
  std::map<std::pair<std::string, std::string>, Cell> cells;  // (behaviour, generator)
  std::map<std::string, std::set<std::string>> cases;
  for (const auto& run : report.runs) {
    if (run.behaviour.empty()) continue;
    if (std::find(generators.begin(), generators.end(), run.generator) == generators.end())
      generators.push_back(run.generator);
    cases[run.behaviour].insert(run.case_name);
    Cell& c = cells[{run.behaviour, run.generator}];
    c.any = true;
    c.fail |= run.status == Status::Fail;
    c.error |= run.status == Status::Error;
    c.skip |= run.status == Status::Skip;
    for (const auto& er : run.expectations) {
      const Expectation& e = *er.expectation;
      Verdict v = expected_verdict(e, run.generator, run.mode);
      if (v != e.result) c.declared.insert(fmt::format("{} ({})", to_string(v), e.name));
    }
  }
  // The catalogue's rows in its order, then the cases' own labels.
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& b : catalogue()) rows.emplace_back(b.id, b.title);
  for (const auto& [label, names] : cases)
    if (std::none_of(rows.begin(), rows.end(), [&](const auto& r) { return r.first == label; }))
      rows.emplace_back(label, "(a case's own label)");

  std::string out = "| # | behaviour | cases |";
  for (const auto& g : generators) out += " " + g + " |";
  out += "\n|---|---|---|";
  for (size_t i = 0; i < generators.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& [label, title] : rows) {
    std::string names;
    for (const auto& n : cases[label]) names += (names.empty() ? "" : ", ") + n;
    out += fmt::format("| {} | {} | {} |", label, title, names.empty() ? "—" : names);
    for (const auto& g : generators) out += " " + render(cells[{label, g}]) + " |";
    out += "\n";
  }
  return out;
}

}  // namespace harness
