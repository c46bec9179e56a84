// A directory made for one run of a program kpath starts, removed with
// everything in it when the run ends.
#pragma once

#include <filesystem>
#include <string>

namespace kpath {

class ScratchDir {
 public:
  // Makes ROOT/PREFIX-XXXXXX (mkdtemp: private to the caller). Throws kpath::Error.
  ScratchDir(const std::string& root, const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace kpath
