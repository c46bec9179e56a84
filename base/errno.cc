#include "base/errno.h"

#include <cstring>

#include "base/error.h"

namespace kpath {

namespace {

// strerror_r comes in two shapes: GNU returns the text (maybe not in buf), XSI
// returns 0 and fills buf. Overloads take whichever this libc declares.
[[maybe_unused]] const char* text_of(const char* gnu_result, const char*) { return gnu_result; }
[[maybe_unused]] const char* text_of(int xsi_result, const char* buf) { return xsi_result == 0 ? buf : nullptr; }

}  // namespace

std::string error_text(int err) {
  char buf[256] = {};
  const char* text = text_of(::strerror_r(err, buf, sizeof buf), buf);
  return text ? text : "Unknown error " + std::to_string(err);
}

void throw_errno(const std::string& what, int err) { throw Error(what + ": " + error_text(err)); }

}  // namespace kpath
