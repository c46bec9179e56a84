#include "harness/engine/runner.h"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "harness/engine/doctor.h"
#include "harness/engine/echo_server.h"
#include "harness/engine/exec_generator.h"
#include "harness/engine/prober.h"
#include "harness/engine/topology.h"
#include "harness/generators/builtin.h"
#include "harness/generators/ruleset_file.h"
#include "netns/error.h"

namespace harness {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

std::chrono::microseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t);
}

ProbeSpec probe_spec(const Expectation& e, const Flow& flow, Verdict want, const RunOptions& options) {
  ProbeSpec spec;
  spec.target = flow.target;
  spec.port = flow.port;
  spec.protocol = flow.protocol;
  spec.count = e.probes;
  spec.concurrency = options.concurrency;
  // A drop shows only as silence; waiting longer than a SYN retransmit adds nothing.
  spec.timeout = want == Verdict::Reachable ? std::chrono::milliseconds(1500) : std::chrono::milliseconds(400);
  if (flow.from_localhost) spec.source = Ip::from("127.0.0.1");
  return spec;
}

// Rule lines with packet counters, so a failure shows where packets stopped.
std::string rule_counters(const Topology& topo, const Cluster& c, RuleBackend backend,
                          const InstallOptions& install) {
  if (backend == RuleBackend::AppliedItself) backend = RuleBackend::IptablesRestore;
  std::string out;
  for (const auto& node : c.nodes) {
    std::string dump;
    try {
      dump = dump_rules(topo.ns(node.name), backend, install);
    } catch (const kpath::Error& err) {
      out += fmt::format("  {}: no rule dump ({})\n", node.name, err.what());
      continue;
    }
    out += fmt::format("  rules on {} ({}):\n", node.name,
                       backend == RuleBackend::Nft ? "nft list ruleset" : "iptables-save -c; [packets:bytes]");
    std::istringstream in(dump);
    int shown = 0;
    for (std::string line; std::getline(in, line) && shown < 80;) {
      bool rule = backend == RuleBackend::Nft ? line.find("counter packets") != std::string::npos
                                                : (line.rfind("[", 0) == 0 && line.find("KUBE") != std::string::npos) ||
                                                      line.rfind("*", 0) == 0;
      if (!rule) continue;
      out += "    " + line + "\n";
      ++shown;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> default_generators() {
  std::vector<std::string> out;
  for (const char* name : {"kube-iptables", "kube-nftables"})
    if (make_builtin_generator(name)) out.push_back(name);
  return out;
}

std::vector<std::string> generators_for(const Case& c, const RunOptions& options) {
  if (c.generator) return {*c.generator};
  if (!options.generators.empty()) return options.generators;
  if (!c.generators.empty()) return c.generators;
  return default_generators();
}

std::unique_ptr<Generator> make_generator(const std::string& spec, const std::string& case_file) {
  auto relative_to_case = [&](std::string path) {
    fs::path p(path);
    if (p.is_relative() && !case_file.empty() && !fs::exists(p)) p = fs::path(case_file).parent_path() / p;
    return p.lexically_normal().string();
  };
  if (spec.rfind("ruleset:", 0) == 0) return std::make_unique<RulesetFileGenerator>(relative_to_case(spec.substr(8)));
  if (spec.rfind("exec:", 0) == 0) return std::make_unique<ExecGenerator>(spec.substr(5));
  if (auto g = make_builtin_generator(spec)) return g;
  throw kpath::Error(fmt::format("unknown generator '{}' (expected kube-iptables, kube-nftables, ruleset:PATH or exec:COMMAND)", spec));
}

CaseRun run_case(const Case& c, const std::string& generator_spec, const RunOptions& options) {
  CaseRun run;
  run.case_name = c.name;
  run.file = c.file;
  run.generator = generator_spec;
  if (options.features)
    if (auto why = skip_reason(*options.features, required_features(c, generator_spec))) {
      run.status = Status::Skip;
      run.error = *why;
      return run;
    }
  auto start = Clock::now();
  try {
    auto generator = make_generator(generator_spec, c.file);
    // Generate for every node first: a broken generator or dump costs no topology.
    std::vector<RuleSet> rules;
    for (const auto& node : c.cluster.nodes) rules.push_back(generator->generate(c.cluster, node.name));

    auto t = Clock::now();
    Topology topo = Topology::build(c.cluster);
    run.build = since(t);
    if (options.keep) run.pinned = topo.pin(fmt::format("kpath-{}-", options.run_id));

    t = Clock::now();
    RuleBackend backend = RuleBackend::IptablesRestore;
    for (size_t i = 0; i < c.cluster.nodes.size(); ++i) {
      const auto& node_ns = topo.ns(c.cluster.nodes[i].name);
      backend = rules[i].backend;
      if (auto* exec = dynamic_cast<ExecGenerator*>(generator.get())) {
        rules[i] = exec->apply(c.cluster, c.cluster.nodes[i].name, node_ns, options.install);
        backend = rules[i].backend;
      }
      if (options.coverage && rules[i].backend == RuleBackend::Nft) rules[i].text = add_nft_counters(rules[i].text);
      prepare_for_rules(node_ns, rules[i]);
      install_rules(node_ns, rules[i], options.install);
    }
    run.install = since(t);

    EchoServers servers;
    for (const auto& pod : c.cluster.pods)
      for (const auto& port : pod.listen) servers.listen(topo.ns(pod.name), pod.name, port.port, port.protocol);
    servers.start();

    t = Clock::now();
    for (const auto& e : c.expect) {
      if (options.stop && options.stop->load()) break;
      ExpectationRun er;
      er.expectation = &e;
      auto et = Clock::now();
      er.flow = resolve_flow(c.cluster, e);
      Verdict want = expected_verdict(e, generator_spec);
      auto results = run_probes(topo.ns(er.flow.from_ns), probe_spec(e, er.flow, want, options));
      er.probes = static_cast<int>(results.size());
      run.probes += results.size();
      er.check = check_probes(c.cluster, e, er.flow, generator_spec, results);
      er.elapsed = since(et);
      if (er.check.status == Status::Fail) run.status = Status::Fail;
      run.expectations.push_back(std::move(er));
    }
    run.traffic = since(t);
    servers.stop();
    if (options.coverage) {
      for (const auto& node : c.cluster.nodes) {
        std::string dump = dump_rules(topo.ns(node.name), backend == RuleBackend::AppliedItself ? RuleBackend::IptablesRestore : backend, options.install);
        for (auto hit : parse_rule_hits(dump, backend)) {
          if (c.cluster.nodes.size() > 1) hit.chain = node.name + "/" + hit.chain;
          run.rule_hits.push_back(std::move(hit));
        }
      }
    }
    if (run.status == Status::Fail) run.diagnosis = rule_counters(topo, c.cluster, backend, options.install);
  } catch (const kpath::Error& err) {
    run.status = Status::Error;
    run.error = err.what();
  } catch (const std::exception& err) {
    run.status = Status::Error;
    run.error = fmt::format("internal error: {}", err.what());
  }
  run.total = since(start);
  return run;
}

}  // namespace harness
