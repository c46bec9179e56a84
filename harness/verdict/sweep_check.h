// Judges a sweep: every front door alone (the verdict, and that replies came
// from an eligible endpoint of that door's Service), then all of them as one
// expectation with counts per kind of door and the first failing doors named.
#pragma once

#include <optional>
#include <vector>

#include "harness/model/model.h"
#include "harness/traffic/probe_result.h"
#include "harness/verdict/check.h"
#include "harness/verdict/flow.h"

namespace harness {

struct SweepCheck {
  CheckResult check;
  std::optional<size_t> first_failure;  // index into the doors
};

// `results[i]` went through door i % doors.size() (the prober's order).
SweepCheck check_sweep(const Cluster& cluster, const Expectation& e, const std::vector<DoorTarget>& doors,
                       const std::vector<Flow>& flows, Verdict want, const std::vector<ProbeResult>& results);

}  // namespace harness
