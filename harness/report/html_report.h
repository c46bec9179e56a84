// The page people read (`kpath run --report FILE.html`): one self-contained
// HTML file (inline CSS and SVG, no script, nothing fetched) with, per
// expectation, a bar chart of the replies per backend against the expected
// share, the verdict and p-value, and for failures the diagnosis. Every text
// from outside is escaped.
#pragma once

#include <string>

#include "harness/report/report.h"

namespace harness {

std::string html_report(const Report& report);

}  // namespace harness
