#include "base/scratch_dir.h"

#include <cstdlib>

#include "base/errno.h"

namespace kpath {

ScratchDir::ScratchDir(const std::string& root, const std::string& prefix) {
  std::string pattern = (std::filesystem::path(root) / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) throw_errno("mkdtemp " + pattern);
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace kpath
