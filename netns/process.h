// Running programs on a node, each in its own sandbox (netns/sandbox.h): a
// PID namespace whose every process ends with the program, with a timeout or
// a stop, and when kpath dies; a mount namespace with the node's /sys, a fresh
// /proc, read-only /proc/sys outside net, private /tmp and /run.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "netns/namespace.h"
#include "netns/sandbox.h"

namespace netns {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal, the timeout or a stop
  bool timed_out = false;
  bool stopped = false;  // ended early because ProcessOptions::stop was set
  std::string out;
  std::string err;

  // The end of err (whole lines where it can), for error messages.
  std::string err_tail(std::size_t max_bytes = 2048) const;
};

struct ProcessOptions {
  std::string input;  // fed on stdin, then EOF
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // Looked at every 50 ms: once true the sandbox is killed and the result is `stopped`.
  const std::atomic<bool>* stop = nullptr;
  Isolation isolation = Isolation::kSandbox;
  std::string workdir;    // "" = inherit; under /tmp or /run it stays visible in the sandbox
  std::vector<int> held;  // namespace fds the program opens as held_fd_path(i) (sandbox.h)
};

// Runs argv[0] (searched in PATH) in a sandbox on ns; collects stdout and
// stderr. The run ends when the program exits, whoever else still holds its
// stdout (everything else in the sandbox is killed then). A program running
// past the timeout is killed with everything it started and reported as
// timed_out. Throws kpath::Error when the program cannot be started.
ProcessResult run_process(const Namespace& ns, const std::vector<std::string>& argv, const ProcessOptions& options);
ProcessResult run_process(const Namespace& ns, const std::vector<std::string>& argv, const std::string& input = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

struct DaemonOptions {
  std::vector<std::string> env;  // extra NAME=VALUE (replacing kpath's own of that NAME)
  std::string log_path;          // stdout+stderr appended here (created 0644)
  std::string workdir;           // "" = inherit; under /tmp or /run it stays visible in the sandbox
  std::vector<int> held;         // namespace fds the program opens as held_fd_path(i) (sandbox.h)
};

// A long-running program in a sandbox on a node (a proxy under test). Stdin is
// /dev/null. RAII: the destructor stops it with a short grace (kpath must end
// within 1 s of SIGINT); call stop() for a longer one. The sandbox's init
// watches a pipe only this process holds, so it does not matter which thread
// starts or stops a daemon, and SIGKILL of kpath ends it as well.
class Daemon {
 public:
  // Returns once the program has been exec'd; throws kpath::Error when it
  // cannot be (not found, the sandbox could not be set up, the log not opened).
  static Daemon start(const Namespace& ns, const std::vector<std::string>& argv, DaemonOptions options);

  Daemon(Daemon&&) noexcept = default;
  Daemon& operator=(Daemon&& other) noexcept;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon();

  // The sandbox's init still alive (it exits when the program exits).
  bool running() const;
  // SIGTERM to the whole sandbox, then SIGKILL after grace; everything in it is gone when this returns.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(2));
  // The program's pid as seen from kpath (0 when it is gone).
  pid_t pid() const;
  // The last max_bytes of the log.
  std::string log_tail(std::size_t max_bytes = 4096) const;

 private:
  Daemon(Sandbox sandbox, std::string log_path, pid_t pid)
      : sandbox_(std::move(sandbox)), log_path_(std::move(log_path)), pid_(pid) {}

  Sandbox sandbox_;
  std::string log_path_;
  pid_t pid_ = 0;
};

}  // namespace netns
