// Named pins of namespaces (`kpath run --keep`) and the markers that say who
// made them. A pin is /run/netns/NAME, so `ip netns exec NAME` finds it; its
// marker /run/kpath/pins/NAME records the owning process (pid and start time,
// which together survive pid reuse) and the namespace's inode, so cleanup can
// tell kpath's pins of exited runs from live ones and from names made by hand.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netns/namespace.h"

namespace netns {

class Keeper;

// Pin names stay short enough to type and far below NAME_MAX (255), which is
// what `ip netns` accepts; longer labels are shortened with a hash.
inline constexpr size_t kMaxPinName = 64;

// A process as the kernel knows it: the pid and its start time (clock ticks
// after boot, /proc/PID/stat field 22). A reused pid has another start time.
struct ProcessId {
  int pid = 0;
  unsigned long long start_time = 0;

  static ProcessId self();
  // The process with this pid now, if any.
  static std::optional<ProcessId> of(int pid);
  bool alive() const;
  bool operator==(const ProcessId&) const = default;
};

// A name that records the process that made it, "PREFIX-PID.START": for
// files kpath removes itself and leaves behind only when killed, which
// `kpath cleanup` then finds by their dead owner.
std::string owned_name(const std::string& prefix);
// The owner a name that starts with owned_name(prefix)'s form records
// (anything may follow "-PID.START"); nullopt for other names.
std::optional<ProcessId> owner_in_name(const std::string& name, const std::string& prefix);

// prefix + label when that fits kMaxPinName, else prefix, the label's head and
// 8 hex digits of a hash of the whole label. Deterministic; the result holds
// only [A-Za-z0-9._-] (anything else in the label becomes '_') and is never
// "." or "..". prefix must itself be such a name, well under the limit.
std::string pin_name(const std::string& prefix, const std::string& label);

// A pin as printed for the user: `ip netns exec NAME ...` enters label's namespace.
struct PinnedNamespace {
  std::string name;
  std::string label;
};

// Where pins and their markers live (tests use their own). In rootless mode
// a keeper holds the namespaces instead (netns/keeper.h): not owned here.
struct PinDirs {
  std::string pins = "/run/netns";
  std::string markers = "/run/kpath/pins";
  Keeper* keeper = nullptr;
};

// A marker's content: who made the pin, of which namespace, for what.
struct PinMarker {
  std::string name;  // the pin's name (also the marker's file name)
  ProcessId owner;
  unsigned long ns_inode = 0;
  std::string label;  // the node, pod or "fabric" it holds

  std::string text() const;
  static std::optional<PinMarker> parse(const std::string& name, const std::string& text);
};

// Writes the marker (owner: this process), then pins ns at dirs.pins/name.
// A failed pin removes its marker again. With dirs.keeper, hands ns to the
// keeper instead (which writes its own marker when kpath commits).
void pin_with_marker(const Namespace& ns, const std::string& name, const std::string& label, const PinDirs& dirs);

// Every marker under dirs.markers; unreadable or malformed ones are skipped.
std::vector<PinMarker> read_markers(const PinDirs& dirs);

// Whether dirs.pins/name is still the namespace the marker recorded.
bool pin_matches(const PinMarker& marker, const PinDirs& dirs);

void remove_marker(const std::string& name, const PinDirs& dirs);

}  // namespace netns
