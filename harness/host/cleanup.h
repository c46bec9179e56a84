// `kpath cleanup`: removes namespaces that `kpath run --keep` pinned.
#pragma once

#include <string>
#include <vector>

namespace harness {

// Unpins every /run/netns/kpath-* entry; returns the paths removed.
std::vector<std::string> cleanup_pinned(const std::string& dir = "/run/netns");

}  // namespace harness
