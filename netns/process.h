// Running a program inside a namespace with Boost.Process: the child enters the
// namespace (setns) after fork and before exec, so the parent never moves.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "netns/namespace.h"

namespace netns {

struct ProcessResult {
  int exit_code = -1;    // -1 when killed by a signal or the timeout
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH) inside ns with input on stdin; collects stdout
// and stderr. A child that runs past timeout is killed (SIGKILL) and reported
// as timed_out. A child is also killed when kpath dies (PR_SET_PDEATHSIG).
ProcessResult run_process(const Namespace& ns, const std::vector<std::string>& argv,
                          const std::string& input = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace netns
