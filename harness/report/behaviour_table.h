// The behaviour-by-generator table: for each catalogue entry (B1..B21, then
// any label of the cases' own), what each generator showed in this run — PASS, PASS with the by-design
// differences its case declares, FAIL, ERROR, SKIP, or not covered.
#pragma once

#include <string>

#include "harness/report/report.h"

namespace harness {

// Markdown, written from the runs themselves (never by hand).
std::string behaviour_table(const Report& report);

}  // namespace harness
