#include "harness/host/cleanup.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "netns/keeper.h"
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

CleanupResult cleanup_kept(const std::string& marker_dir, uid_t uid) {
  CleanupResult r;
  for (const auto& m : netns::read_keeper_markers(marker_dir)) {
    auto each = [&](std::vector<std::string>& into, const std::string& why) {
      for (const auto& ns : m.namespaces) into.push_back(fmt::format("{} ({})", ns.name, why));
    };
    if (m.owner.alive()) {
      each(r.in_use, fmt::format("kpath pid {} is still running", m.owner.pid));
      continue;
    }
    if (netns::keeper_running(m, uid)) {
      if (!netns::end_keeper(m, uid)) {
        each(r.in_use, fmt::format("{} pid {} did not end on SIGTERM", netns::kKeeperName, m.keeper.pid));
        continue;
      }
      each(r.removed, fmt::format("held by {} pid {}, now ended", netns::kKeeperName, m.keeper.pid));
    } else {
      each(r.removed, fmt::format("{} pid {} had already ended", netns::kKeeperName, m.keeper.pid));
    }
    std::error_code ec;
    std::filesystem::remove(m.file, ec);
  }
  return r;
}

void append(CleanupResult& to, CleanupResult from) {
  auto add = [](std::vector<std::string>& a, std::vector<std::string>& b) {
    a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
  };
  add(to.removed, from.removed);
  add(to.in_use, from.in_use);
  add(to.not_ours, from.not_ours);
  add(to.scratch_removed, from.scratch_removed);
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
