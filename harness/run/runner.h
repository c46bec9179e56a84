// Runs one case against one generator on the kernel: build the topology,
// install the rules on every node, start the echo servers, probe every
// expectation, check, tear down.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/verdict/check.h"
#include "harness/rules/counters.h"
#include "harness/verdict/flow.h"
#include "harness/rules/installer.h"
#include "harness/generators/generator.h"
#include "harness/model/model.h"

namespace harness {

struct FeatureReport;  // doctor.h

struct RunOptions {
  std::vector<std::string> generators;  // --generator; empty: the case's own or the built-ins
  InstallOptions install;
  bool keep = false;             // pin namespaces under /run/netns for inspection
  std::string run_id;            // names pinned namespaces: kpath-<run_id>-<name>
  int concurrency = 128;
  bool coverage = false;         // count rule hits; report rules no probe hit
  // After endpoint changes, delete the UDP conntrack entries of endpoints that
  // stopped serving, as kube-proxy does (built-in generators only).
  bool conntrack_cleanup = true;
  const std::atomic<bool>* stop = nullptr;  // set by SIGINT/SIGTERM
  // Kernel features found (kpath doctor); a run needing a missing one is
  // skipped with the reason. nullptr: assume everything is there.
  const FeatureReport* features = nullptr;
};

struct ExpectationRun {
  const Expectation* expectation = nullptr;
  Flow flow;
  CheckResult check;
  int probes = 0;
  std::chrono::microseconds elapsed{0};
};

struct CaseRun {
  std::string case_name;
  std::string behaviour;  // the catalogue entry the case covers, if any
  std::string file;
  std::string generator;
  Status status = Status::Pass;
  std::string error;      // Error: what went wrong (generator, installer, topology)
  std::string diagnosis;  // on failure: rule counters on the nodes
  std::vector<ExpectationRun> expectations;
  std::vector<std::string> pinned;
  // With coverage: every generated rule's hits on every node (chain "node/chain").
  std::vector<RuleHit> rule_hits;
  std::chrono::microseconds build{0}, install{0}, traffic{0}, total{0};
  uint64_t probes = 0;
};

// The default built-in generators a case runs against.
std::vector<std::string> default_generators();
// The generator specs a case runs against under options.
std::vector<std::string> generators_for(const Case& c, const RunOptions& options);
// A generator from its spec: a built-in name, ruleset:PATH (relative to the
// case file's folder), or exec:COMMAND.
std::unique_ptr<Generator> make_generator(const std::string& spec, const std::string& case_file);

CaseRun run_case(const Case& c, const std::string& generator, const RunOptions& options);
// The same with a generator object (for example a test's mutated generator);
// `generator_spec` names it in reports and selects the case's `except` entries.
CaseRun run_case(const Case& c, const Generator& generator, const std::string& generator_spec,
                 const RunOptions& options);

// Sets the state of a pod's endpoint in every slice of the cluster.
void apply_endpoint_change(Cluster& cluster, const EndpointChange& change);

}  // namespace harness
