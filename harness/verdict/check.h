// Checks what the probes of one flow saw against its expectation, Calico
// style: every property is checked, and a failure carries an expected-vs-
// observed table.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "harness/verdict/flow.h"
#include "harness/traffic/prober.h"
#include "harness/model/model.h"

namespace harness {

enum class Status { Pass, Fail, Error, Skip };
std::string to_string(Status s);

struct CheckResult {
  Status status = Status::Pass;
  std::string summary;  // one line
  std::string detail;   // the table on failure
  std::map<std::string, uint64_t> backends;  // pod -> replies
  std::map<Outcome, int> outcomes;
  double p_value = -1;  // of the distribution test, when one ran
  double alpha = 0;
};

std::string to_string(Verdict v);

// The verdict this generator must produce for e (its declared by-design
// difference, if any).
Verdict expected_verdict(const Expectation& e, const std::string& generator);

CheckResult check_probes(const Cluster& cluster, const Expectation& e, const Flow& flow,
                         const std::string& generator, const std::vector<ProbeResult>& results);

}  // namespace harness
