// JUnit XML for CI, written with pugixml: every planned run is a testsuite
// and every planned expectation a testcase, the ones that did not run as
// skipped with the reason. Whatever names and messages hold, the file is
// valid XML 1.0 (text goes through xml_safe before the writer escapes it).
#pragma once

#include <string>

#include "harness/report/report.h"

namespace harness {

std::string junit_xml(const Report& report);

}  // namespace harness
