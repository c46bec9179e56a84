// Rootless --keep: a user namespace cannot bind-mount a namespace into the
// host's /run/netns, so a keeper process holds the kept namespaces by fd
// instead. kpath forks it right after entering the user namespace (while it
// has one thread), hands it each namespace as it pins it, and commits at the
// end: only then does the keeper write its marker and outlive kpath. Before
// the commit it ends with kpath (its socket closes, or the parent-death
// signal), so a SIGKILLed kpath leaves nothing. A committed keeper
// ("kpath-keeper" in ps) holds everything until `kpath cleanup` ends it.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "netns/pins.h"

namespace netns {

// The process name a keeper shows (ps, /proc/PID/comm).
inline constexpr const char* kKeeperName = "kpath-keeper";

// The folder of the caller's rootless markers: $XDG_RUNTIME_DIR/kpath/pins
// when XDG_RUNTIME_DIR names a folder the caller owns, else
// /tmp/kpath-UID/pins. Pure: says which; see make_user_pin_dir.
std::string user_pin_dir(uid_t uid, const std::optional<std::string>& xdg_runtime_dir, bool xdg_owned_by_uid);

// user_pin_dir for this process, from its euid and environment: call it
// before entering a user namespace, where the euid is 0.
std::string caller_pin_dir();

// Creates pins and its parent 0700 (what caller_pin_dir names). Throws when
// the parent exists but is not a private folder of this euid's (/tmp is shared).
void make_private_pin_dir(const std::string& pins);

// One namespace a keeper holds: `nsenter --user=/proc/PID/ns/user --net=/proc/PID/fd/FD`.
struct KeptNamespace {
  std::string name;
  int fd = -1;
  unsigned long inode = 0;
  std::string label;
  bool operator==(const KeptNamespace&) const = default;
};

// A keeper's marker, DIR/keeper-PID.START: the keeper, the kpath that asked
// (while it runs, cleanup leaves the keeper alone), and what it holds.
struct KeeperMarker {
  std::string file;  // the marker's path (not part of the text)
  ProcessId keeper;
  ProcessId owner;
  uid_t uid = 0;  // the caller's uid outside the user namespace
  std::vector<KeptNamespace> namespaces;

  std::string text() const;
  static std::optional<KeeperMarker> parse(const std::string& text);
  bool operator==(const KeeperMarker&) const = default;
};

// The command that enters namespace `fd` of keeper `pid` as its user.
std::string nsenter_command(int pid, int fd);

class Keeper {
 public:
  // Forks the keeper. Must run while this process has one thread, inside
  // the user namespace; uid is the caller's outside it (for the marker).
  static Keeper start(const std::string& marker_dir, uid_t uid);

  Keeper(Keeper&&) = default;
  Keeper& operator=(Keeper&&) = delete;
  // Uncommitted: the keeper ends and everything it held with it.
  ~Keeper();

  // Hands ns over under name (thread-safe); the keeper holds its own fd.
  void hold(const Namespace& ns, const std::string& name, const std::string& label);
  // Makes the keeper persistent: it writes its marker and stays until
  // `kpath cleanup`. With nothing held it just ends. Returns the marker's
  // path ("" when nothing was held).
  std::string commit();

  int pid() const { return pid_; }
  // nsenter_command for the namespace held under name.
  std::string enter_command(const std::string& name) const;

 private:
  Keeper(int pid, kpath::Fd socket) : pid_(pid), socket_(std::move(socket)) {}
  std::string ask(const std::string& request, int fd);

  int pid_ = -1;
  kpath::Fd socket_;
  bool committed_ = false;
  std::map<std::string, int> fds_;  // name -> the keeper's fd
  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
};

// Every keeper marker under dir; malformed ones are skipped.
std::vector<KeeperMarker> read_keeper_markers(const std::string& dir);

// Whether the marker's keeper is running as recorded: same pid and start,
// not a zombie, named kpath-keeper, and running as uid outside.
bool keeper_running(const KeeperMarker& marker, uid_t uid);

// SIGTERM to a running keeper of uid's, then waits (up to 5 s) until it
// has gone. False when it is not that, or did not end.
bool end_keeper(const KeeperMarker& marker, uid_t uid);

}  // namespace netns
