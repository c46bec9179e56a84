// Reading back in a test what the test or a program it ran wrote.
#pragma once

#include <string>

#include "base/file.h"

namespace kpath_test {

// The content of the file at `path`, or "" when there is none (the
// assertion on the content then says what is missing).
inline std::string read_file(const std::string& path) { return kpath::read_file_if_present(path).value_or(""); }

}  // namespace kpath_test
