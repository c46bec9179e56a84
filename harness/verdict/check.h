// Checks what the probes of one flow saw against its expectation, Calico
// style: every property is checked, and a failure carries an expected-vs-
// observed table.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "harness/verdict/flow.h"
#include "harness/traffic/probe_result.h"
#include "harness/model/model.h"

namespace harness {

enum class Status { Pass, Fail, Error, Skip };
std::string to_string(Status s);

struct CheckResult {
  Status status = Status::Pass;
  std::string summary;                       // one line
  std::string detail;                        // the table on failure
  Verdict want = Verdict::Reachable;         // the verdict the generator had to produce
  std::map<std::string, uint64_t> backends;  // pod -> replies
  // Replies by the source the backend saw: "node" (a node address), "client"
  // (the prober's own address) or "other".
  std::map<std::string, uint64_t> sources;
  std::map<Outcome, int> outcomes;
  // The distribution test's expected replies per backend, when one ran (0 for
  // a backend that should get none).
  std::map<std::string, double> expected;
  double p_value = -1;  // of the distribution test, when one ran
  double alpha = 0;
};

std::string to_string(Verdict v);

// The verdict a generator must produce for e: the one declared by design for
// its name, else for the kube-proxy mode it implements, else e's own.
Verdict expected_verdict(const Expectation& e, const std::string& generator, ProxyMode mode);

// Whether a probe that ended as `o` shows verdict `want`. Dropped is a
// timeout or a drop on the sender's own output (EPERM), narrowed by `at`.
bool shows(Verdict want, Outcome o, DroppedAt at = DroppedAt::Any);

// Judges what the probes of one flow saw against e, wanting verdict `want`.
CheckResult check_probes(const Cluster& cluster, const Expectation& e, const Flow& flow, Verdict want,
                         const std::vector<ProbeResult>& results);

}  // namespace harness
