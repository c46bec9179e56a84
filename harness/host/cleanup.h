// `kpath cleanup`: removes the namespaces that `kpath run --keep` pinned and
// whose kpath has exited; leaves pins of a kpath still running and names it
// did not make. Also reports the scratch directories of killed runs removed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "netns/pins.h"

namespace harness {

struct CleanupResult {
  std::vector<std::string> removed;   // pins of exited kpath runs, now gone
  std::vector<std::string> in_use;    // "NAME (kpath pid N is still running)"
  std::vector<std::string> not_ours;  // kpath-* pins without a marker: made by hand or by an older kpath
  // Scratch directories of runs that were killed (filled by the caller:
  // harness::remove_stale_scratch, generators layer).
  std::vector<std::string> scratch_removed;
};

// Unpins every pin whose marker names an exited owner and still names the
// namespace the marker recorded; removes the markers of exited owners.
CleanupResult cleanup_pinned(const netns::PinDirs& dirs = {});

// Rootless --keep: ends the keepers (netns/keeper.h) whose markers are in
// marker_dir, whose kpath has exited and that run as uid; a keeper that has
// ended already leaves only its marker, which goes too. Another user's
// process is never signalled.
CleanupResult cleanup_kept(const std::string& marker_dir, uid_t uid);

// Both results in one (the host's pins, then a user's keepers).
void append(CleanupResult& to, CleanupResult from);

// What cleanup did, a line per pin, for the terminal.
std::string format_cleanup(const CleanupResult& r);

}  // namespace harness
