// The machine-readable report (`kpath run --json FILE`): every run and
// expectation, observed counts per backend, p-values and timings. The schema
// is "kpath.report/v1", described in docs/reports.md; a change that removes
// or renames a field is a new version.
#pragma once

#include <string>

#include "harness/report/report.h"

namespace harness {

inline constexpr const char* kJsonSchema = "kpath.report/v1";

std::string json_report(const Report& report);

}  // namespace harness
