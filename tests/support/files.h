// Reading back in a test what the test or a program it ran wrote.
#pragma once

#include <filesystem>
#include <string>

#include "base/file.h"

namespace kpath_test {

// The content of the file at `path`, or "" when there is none (the
// assertion on the content then says what is missing).
inline std::string read_file(const std::string& path) { return kpath::read_file_if_present(path).value_or(""); }

// A path a test writes to, removed (with everything under it) when the test
// ends, pass or fail: tests leave nothing in /tmp.
class TempPath {
 public:
  explicit TempPath(std::string path) : path_(std::move(path)) {}
  ~TempPath() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

}  // namespace kpath_test
