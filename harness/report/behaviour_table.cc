#include "harness/report/behaviour_table.h"

#include <fmt/format.h>

#include <map>
#include <set>

namespace harness {
namespace {

// The catalogue's entries in a few words each (docs/behaviours.md explains them).
const std::map<int, const char*> kCatalogue = {
    {1, "NodePort from outside, externalTrafficPolicy Cluster"},
    {2, "pod or node to ClusterIP"},
    {3, "hairpin: an endpoint to its own Service"},
    {4, "externalTrafficPolicy Local, local endpoints"},
    {5, "externalTrafficPolicy Local, no local endpoint"},
    {6, "Service without endpoints"},
    {7, "internalTrafficPolicy Local"},
    {8, "terminating endpoints"},
    {9, "sessionAffinity ClientIP"},
    {10, "loadBalancerSourceRanges"},
    {11, "nodePortAddresses"},
    {12, "localhost NodePort"},
    {13, "health-check node port"},
    {14, "masquerade mark"},
    {15, "conntrack INVALID drop"},
    {16, "endpoint probabilities"},
    {17, "UDP endpoint removal and stale conntrack"},
    {18, "endpoint change while traffic flows"},
    {19, "multi-node NodePort"},
    {20, "nftables-only ClusterIP checks"},
    {21, "FORWARD policy DROP on the node"},
};

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
  std::map<std::pair<int, std::string>, Cell> cells;
  std::map<int, std::set<std::string>> cases;
  for (const auto& run : report.runs) {
    if (run.behaviour.size() < 2) continue;
    int b = std::stoi(run.behaviour.substr(1));
    if (std::find(generators.begin(), generators.end(), run.generator) == generators.end())
      generators.push_back(run.generator);
    cases[b].insert(run.case_name);
    Cell& c = cells[{b, run.generator}];
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
  std::string out = "| # | behaviour | cases |";
  for (const auto& g : generators) out += " " + g + " |";
  out += "\n|---|---|---|";
  for (size_t i = 0; i < generators.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& [b, title] : kCatalogue) {
    std::string names;
    for (const auto& n : cases[b]) names += (names.empty() ? "" : ", ") + n;
    out += fmt::format("| B{} | {} | {} |", b, title, names.empty() ? "—" : names);
    for (const auto& g : generators) out += " " + render(cells[{b, g}]) + " |";
    out += "\n";
  }
  return out;
}

}  // namespace harness
