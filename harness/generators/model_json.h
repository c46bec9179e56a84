// The model as JSON, the input of exec: generators. Versioned: "kpath.model/v1"
// (documented in docs/generators.md).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "harness/model/model.h"

namespace harness {

// What exists only while a run does, for the programs it starts.
struct RunContext {
  std::string iptables;  // "nft" | "legacy": the --iptables variant in use
  std::string scratch;   // a per-run scratch directory; empty: none
  // Each node's, pod's and external client's network namespace as a path the
  // program can open (netns::held_fd_path); empty: not given.
  std::map<std::string, std::string> netns;
};

nlohmann::json model_json(const Cluster& cluster, const std::string& node, const RunContext& context = {});

}  // namespace harness
