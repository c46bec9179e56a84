// For tests that run kpath itself, a browser or a client that reads files the
// test wrote under /tmp: a program in a network namespace with the host's
// files and pids, outside the node sandbox (netns/sandbox.h) kpath gives
// programs on its nodes. Killed with its process group at the timeout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "netns/process.h"

namespace kpath_test {

inline netns::ProcessResult run_on_host(const netns::Namespace& ns, const std::vector<std::string>& argv,
                                        const std::string& input, std::chrono::milliseconds timeout) {
  netns::ProcessOptions options;
  options.input = input;
  options.timeout = timeout;
  options.isolation = netns::Isolation::kNetworkOnly;
  return netns::run_process(ns, argv, options);
}

}  // namespace kpath_test
