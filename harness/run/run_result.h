// What one run (a case against one generator) produced: the reports read these.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/model/model.h"
#include "harness/rules/counters.h"
#include "harness/verdict/check.h"
#include "harness/verdict/flow.h"
#include "netns/pins.h"

namespace harness {

class EchoServers;  // traffic/echo_server.h

struct ExpectationRun {
  const Expectation* expectation = nullptr;
  Flow flow;
  CheckResult check;
  int probes = 0;
  std::chrono::microseconds elapsed{0};
  // The rules whose counters these probes moved, on every node: read for a
  // failure and with --coverage (RunOptions::coverage), empty for other passes.
  std::vector<RuleCounter> counters;
  // On failure: where the probes went (those rules, and conntrack).
  std::string diagnosis;
  // The before:/during: changes in force when the probes ran ("web-a deleted, ...").
  std::string changes_in_force;
};

// How long a running proxy (proxy:) took to program the model: at its start
// and after each before:/during: change, measured as rules-stable time.
struct ConvergenceRun {
  std::string change;  // "start", or "before: web-a deleted (expectation NAME)"
  std::chrono::microseconds elapsed{0};
  std::string how;  // "rules stable", or "rules unchanged for 3 s"
};

struct CaseRun {
  std::string case_name;
  std::string behaviour;      // the catalogue entry the case covers, if any
  std::vector<int> families;  // the case's cluster's address families (AF_INET, AF_INET6), primary first
  std::string file;
  std::string generator;  // its name (GeneratorSpec::name)
  ProxyMode mode = ProxyMode::None;
  Status status = Status::Pass;
  // The expectations this run was to probe, in order; `expectations` holds
  // the ones that ran (a prefix when the run stopped early).
  std::vector<const Expectation*> planned;
  std::string error;      // Error: what went wrong; Skip: why it did not run
  std::string diagnosis;  // what kpath could not observe (e.g. counters unreadable)
  // What kpath put on the nodes that the generator did not write ("node: what").
  std::vector<std::string> additions;
  std::vector<ExpectationRun> expectations;
  std::vector<netns::PinnedNamespace> pinned;  // --keep: the pins made for this run
  // --keep with RunOptions::keep_serving: the run's echo servers, still
  // answering in the pinned pods while this is held.
  std::shared_ptr<EchoServers> serving;
  // A running proxy's convergence, in order (empty for rule writers).
  std::vector<ConvergenceRun> convergence;
  // Files kept under --artifacts (the proxies' logs).
  std::vector<std::string> artifacts;
  // With coverage: every rule seen on every node, with the packets probes moved through it.
  std::vector<RuleCounter> coverage;
  std::chrono::microseconds build{0}, install{0}, traffic{0}, total{0};
  uint64_t probes = 0;
};

}  // namespace harness
