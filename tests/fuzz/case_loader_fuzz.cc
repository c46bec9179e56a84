// libFuzzer target for the case loader. Bad input must end in kpath::Error;
// any other exception, a crash or a sanitizer report is a finding.
// Build and run: ci/fuzz.sh [SECONDS]
#include <cstddef>
#include <cstdint>
#include <string>

#include "harness/cases/case_loader.h"
#include "base/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    harness::parse_case(text, "fuzz/case.yaml");
  } catch (const kpath::Error&) {
  }
  return 0;
}
