#include "harness/host/cleanup.h"

#include <filesystem>

#include "netns/namespace.h"

namespace harness {

std::vector<std::string> cleanup_pinned(const std::string& dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("kpath-", 0) != 0) continue;
    netns::Namespace::unpin(entry.path().string());
    removed.push_back(entry.path().string());
  }
  return removed;
}

}  // namespace harness
