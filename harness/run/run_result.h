// What one run (a case against one generator) produced: the reports read these.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/model/model.h"
#include "harness/rules/counters.h"
#include "harness/verdict/check.h"
#include "harness/verdict/flow.h"

namespace harness {

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
  std::string generator;  // its name (GeneratorSpec::name)
  ProxyMode mode = ProxyMode::None;
  Status status = Status::Pass;
  // The expectations this run was to probe, in order; `expectations` holds
  // the ones that ran (a prefix when the run stopped early).
  std::vector<const Expectation*> planned;
  std::string error;      // Error: what went wrong; Skip: why it did not run
  std::string diagnosis;  // on failure: rule counters on the nodes
  std::vector<ExpectationRun> expectations;
  std::vector<std::string> pinned;
  // With coverage: every generated rule's hits on every node (chain "node/chain").
  std::vector<RuleHit> rule_hits;
  std::chrono::microseconds build{0}, install{0}, traffic{0}, total{0};
  uint64_t probes = 0;
};

}  // namespace harness
