// The behaviour-by-generator table: for each catalogue entry (B1..B21, then
// any label of the cases' own), what each generator showed in this run for
// each address family (a column per generator and family: IPv4, IPv6) —
// PASS, PASS with the by-design differences its case declares, FAIL, ERROR,
// SKIP, or not covered. An expectation counts for its target's family; a run
// that errored or skipped, for every family of its cluster.
#pragma once

#include <string>

#include "harness/report/report.h"

namespace harness {

// Markdown, written from the runs themselves (never by hand).
std::string behaviour_table(const Report& report);

}  // namespace harness
