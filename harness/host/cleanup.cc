#include "harness/host/cleanup.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "netns/namespace.h"

namespace harness {

namespace {

// Names under dirs.pins that look like kpath's but that no marker explains.
std::vector<std::string> unexplained(const netns::PinDirs& dirs, const std::set<std::string>& marked) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dirs.pins, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("kpath-") && !marked.count(name)) out.push_back(name);
  }
  return out;
}

}  // namespace

CleanupResult cleanup_pinned(const netns::PinDirs& dirs) {
  CleanupResult r;
  std::set<std::string> marked;
  for (const auto& m : netns::read_markers(dirs)) {
    if (m.owner.alive()) {
      marked.insert(m.name);
      r.in_use.push_back(fmt::format("{} (kpath pid {} is still running)", m.name, m.owner.pid));
      continue;
    }
    // A pin of that name that holds another namespace is someone else's now:
    // it stays, and only the stale marker goes.
    if (netns::pin_matches(m, dirs)) {
      netns::Namespace::unpin(dirs.pins + "/" + m.name);
      marked.insert(m.name);
      r.removed.push_back(m.name);
    }
    netns::remove_marker(m.name, dirs);
  }
  r.not_ours = unexplained(dirs, marked);
  return r;
}

std::string format_cleanup(const CleanupResult& r) {
  std::string out;
  for (const auto& name : r.removed) out += fmt::format("removed {}\n", name);
  for (const auto& dir : r.scratch_removed)
    out += fmt::format("removed {} (the scratch directory of a killed run)\n", dir);
  for (const auto& what : r.in_use) out += fmt::format("kept {}\n", what);
  for (const auto& name : r.not_ours)
    out += fmt::format("left {} (no kpath marker: not made by kpath run --keep; `ip netns delete` removes it)\n", name);
  if (out.empty()) out = "nothing to clean up\n";
  return out;
}

}  // namespace harness
