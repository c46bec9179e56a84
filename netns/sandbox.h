// The sandbox every program kpath runs on a node lives in. The first process
// (the sandbox's init) is pid 1 of a new PID namespace with its own mount
// namespace: / is made private, /sys is a fresh sysfs of the node's network
// namespace (read-only except the network devices, as `ip netns exec` mounts it
// but narrower), /proc is a fresh proc of the new PID namespace (read-only
// /proc/sys except /proc/sys/net), /tmp and /run are empty tmpfs except for
// the host's entries there that hold the working directory, kpath's own
// directory or the program (so a case in /tmp/clone/cases still works). The init
// forks the program into its own process group, forwards SIGTERM/SIGINT/SIGHUP
// to everything in the sandbox and exits when the program exits; its exit ends
// every other process of the PID namespace (the kernel's rule for a PID
// namespace's init). The init also exits when kpath dies: it watches a pipe
// only kpath holds open (PR_SET_PDEATHSIG would follow the thread that started
// it, not the process).
#pragma once

#include <sys/types.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "netns/namespace.h"

namespace netns {

enum class Isolation {
  kSandbox,      // everything above: what kpath uses for every program on a node
  kNetworkOnly,  // only the network namespace and an own session; for tests that run
                 // kpath itself or a browser and must see the host's files and pids
};

struct SandboxSpec {
  std::vector<std::string> argv;         // argv[0] is the program's path (no PATH search here)
  std::vector<std::string> env;          // the whole environment, NAME=VALUE
  std::string workdir;                   // "" = inherit
  std::array<int, 3> stdio{-1, -1, -1};  // kpath's fds that become 0, 1, 2
  Isolation isolation = Isolation::kSandbox;
  // kSandbox: fds (network namespaces of the case) the sandbox's init holds
  // for the program, which opens them as held_fd_path(i) (a CNI-style netns
  // path, without a mount in the host). Ignored for kNetworkOnly.
  std::vector<int> held;
};

// Inside a kSandbox: the path of SandboxSpec::held[index].
std::string held_fd_path(std::size_t index);

// One started sandbox. Destroying it kills everything in it and reaps it.
class Sandbox {
 public:
  // Starts the program; returns once it has been exec'd. Throws kpath::Error
  // naming the step (a mount, setns, chdir, exec) that failed.
  static Sandbox start(const Namespace& ns, const SandboxSpec& spec);

  Sandbox(Sandbox&& other) noexcept;
  Sandbox& operator=(Sandbox&& other) noexcept;
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  ~Sandbox();

  // Readable (POLLIN) once the sandbox has ended: for kSandbox every process in
  // it is gone by then.
  int exit_fd() const { return pidfd_.get(); }
  bool ended() const;
  // Sends sig to every process in the sandbox (kNetworkOnly: its process group).
  void signal_all(int sig) const;
  // SIGKILL to all of it; ended() turns true shortly after.
  void kill_all() const;
  // Blocks until the sandbox has ended and reaps it (idempotent). The
  // program's wait status, or nothing when it was killed before it exited.
  std::optional<int> wait();
  // The program's pid in kpath's PID namespace (0 once it is gone). Looked up
  // in /proc for kSandbox (the init's child that is pid 2 of the namespace).
  pid_t find_program_pid() const;

 private:
  Sandbox() = default;
  void release() noexcept;

  Isolation isolation_ = Isolation::kSandbox;
  pid_t pid_ = 0;  // the init (kSandbox) or the program (kNetworkOnly)
  pid_t program_pid_ = 0;
  kpath::Fd pidfd_;
  kpath::Fd alive_;   // write end; the init exits when it closes
  kpath::Fd status_;  // read end; the init writes the program's wait status
  bool reaped_ = false;
  std::optional<int> status_value_;
};

// The first argument resolved against PATH as execvp would; throws when absent.
std::string find_program(const std::string& name);

}  // namespace netns
