// Programs a test starts in a forked child, and what they leave running:
// found by a mark in the environment every descendant inherits, or by text
// on their command line, so other tests' processes are never mistaken for
// leftovers.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/file.h"

namespace kpath_test {

// NAME=<this test's pid>, for the environment of what a test spawns. Take it
// before fork(): in the child getpid() is the child's own pid.
inline std::string env_mark(const std::string& name) { return name + "=" + std::to_string(::getpid()); }

// In a forked child: becomes `program` with `args` (argv[0] is the program
// itself), or exits 127.
[[noreturn]] inline void exec_or_exit(const std::string& program, const std::vector<std::string>& args) {
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(program.c_str(), argv.data());
  ::_exit(127);
}

// A waitpid status as a shell shows it: the exit code, or 128 + the signal.
inline int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// Waits for the child `pid` to end; its exit_code_of().
inline int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return exit_code_of(status);
}

// Pids of the processes, this one left out, whose /proc/PID/<file>
// ("environ", "cmdline") holds `text`.
inline std::vector<std::string> processes_with(const std::string& file, const std::string& text) {
  std::vector<std::string> found;
  const std::string self = std::to_string(::getpid());
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid == self) continue;
    auto content = kpath::read_file_if_present(entry.path() / file);  // nullopt: it has ended meanwhile
    if (content && content->find(text) != std::string::npos) found.push_back(pid);
  }
  return found;
}

}  // namespace kpath_test
