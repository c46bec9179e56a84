// Which kernel features runs need, and the reason to skip a run when the
// kernel lacks one (`kpath doctor` finds what is there).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "harness/host/doctor.h"
#include "harness/model/model.h"

namespace harness {

// Every feature some case needs under the generators it runs against by default.
std::vector<std::string> features_needed_by(const std::vector<Case>& cases);

// "skipped: needs <feature> (<reason>)" for the first required feature the
// report lacks; nullopt when everything needed is there.
std::optional<std::string> skip_reason(const FeatureReport& report, const std::vector<std::string>& required);

}  // namespace harness
