#include "harness/report/json_report.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace harness {

namespace {

using nlohmann::json;

double seconds(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1e6; }

std::string backends_kind(BackendExpectation::Kind k) {
  switch (k) {
    case BackendExpectation::Kind::Any: return "any";
    case BackendExpectation::Kind::Uniform: return "uniform";
    case BackendExpectation::Kind::Weighted: return "weighted";
    case BackendExpectation::Kind::OneOf: return "one-of";
    case BackendExpectation::Kind::Sticky: return "sticky";
  }
  return "?";
}

std::string source_kind(SourceExpectation s) {
  switch (s) {
    case SourceExpectation::Any: return "any";
    case SourceExpectation::Node: return "node";
    case SourceExpectation::Client: return "client";
  }
  return "?";
}

json expected(const Expectation& e, const CaseRun& run) {
  json j = {{"verdict", to_string(expected_verdict(e, run.generator, run.mode))},
            {"backends", backends_kind(e.backends.kind)},
            {"source", source_kind(e.source)}};
  if (!e.backends.weights.empty()) j["weights"] = e.backends.weights;
  return j;
}

json observed(const ExpectationRun& er) {
  json outcomes = json::object();
  for (const auto& [o, n] : er.check.outcomes) outcomes[to_string(o)] = n;
  json j = {{"outcomes", outcomes}, {"backends", er.check.backends}, {"sources", er.check.sources}};
  return j;
}

json flow(const Flow& f) {
  return {{"kind", to_string(f.kind)},
          {"from_namespace", f.from_ns},
          {"target", f.target.str()},
          {"port", f.port},
          {"protocol", to_string(f.protocol)},
          {"service", f.service},
          {"via_node", f.via_node},
          {"eligible", f.eligible}};
}

json sweep_json(const Sweep& s) {
  json doors = json::array();
  for (FrontDoor d : s.doors) doors.push_back(to_string(d));
  return {{"namespace", s.ns}, {"name", s.name_pattern}, {"doors", doors}};
}

json expectation(const PlannedExpectation& pe, const CaseRun& run) {
  const Expectation& e = *pe.expectation;
  json j = {{"name", expectation_name(e)},
            {"where", fmt::format("{}:{}", e.where.file, e.where.line)},
            {"from", e.from.str()},
            {"to", e.sweep ? "every front door" : e.to.str()},
            {"protocol", to_string(e.protocol)},
            {"probes_planned", e.probes},
            {"expected", expected(e, run)}};
  if (e.sweep) j["sweep"] = sweep_json(*e.sweep);
  if (!pe.result) {
    j["status"] = to_string(Status::Skip);
    j["not_run"] = pe.not_run;
    return j;
  }
  const ExpectationRun& er = *pe.result;
  j["status"] = to_string(er.check.status);
  j["summary"] = er.check.summary;
  j["detail"] = er.check.detail;
  j["flow"] = flow(er.flow);
  j["observed"] = observed(er);
  j["expected_counts"] = er.check.expected;
  j["p_value"] = er.check.p_value >= 0 ? json(er.check.p_value) : json(nullptr);
  j["false_failure_rate"] = er.check.p_value >= 0 ? json(er.check.alpha) : json(nullptr);
  j["probes"] = er.probes;
  j["elapsed_s"] = seconds(er.elapsed);
  return j;
}

json run_json(const CaseRun& run) {
  json expectations = json::array();
  for (const auto& pe : planned_expectations(run)) expectations.push_back(expectation(pe, run));
  json convergence = json::array();
  for (const auto& c : run.convergence)
    convergence.push_back({{"change", c.change}, {"seconds", seconds(c.elapsed)}, {"how", c.how}});
  return {{"case", run.case_name},
          {"file", run.file},
          {"behaviour", run.behaviour},
          {"generator", run.generator},
          {"mode", to_string(run.mode)},
          {"status", to_string(run.status)},
          {"error", run.error},
          {"diagnosis", run.diagnosis},
          {"probes", run.probes},
          {"timings_s",
           {{"build", seconds(run.build)},
            {"install", seconds(run.install)},
            {"traffic", seconds(run.traffic)},
            {"total", seconds(run.total)}}},
          {"convergence", convergence},
          {"artifacts", run.artifacts},
          {"expectations", expectations}};
}

json environment(const RunEnvironment& env) {
  return {{"kpath", env.kpath_version},
          {"hostname", env.hostname},
          {"kernel", env.host.kernel},
          {"iptables_nft", env.host.iptables_nft},
          {"iptables_legacy", env.host.iptables_legacy},
          {"nft", env.host.nft},
          {"started",
           fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::time_point_cast<std::chrono::seconds>(env.started))},
          {"elapsed_s", seconds(env.elapsed)}};
}

}  // namespace

std::string json_report(const Report& report) {
  json load_errors = json::array();
  for (const auto& le : report.load_errors) load_errors.push_back({{"file", le.file}, {"message", le.message}});
  json runs = json::array();
  for (const auto& run : report.runs) runs.push_back(run_json(run));
  json j = {{"schema", kJsonSchema},
            {"environment", environment(report.env)},
            {"interrupted", report.interrupted},
            {"probes", report.probes()},
            {"load_errors", load_errors},
            {"runs", runs}};
  // Names and messages come from outside: a byte that is not UTF-8 becomes U+FFFD.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace harness
