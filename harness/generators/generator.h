// A generator turns the model into the rules one node's proxy would install.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harness/model/model.h"

namespace harness {

enum class RuleBackend {
  IptablesRestore,  // iptables-restore input (one or more *table ... COMMIT blocks)
  Nft,              // an nft -f script
  AppliedItself,    // an exec: generator that installed its rules on its own
};

struct RuleSet {
  RuleBackend backend = RuleBackend::IptablesRestore;
  std::string text;
  // Where the text came from, so an installer error can point at the source:
  // origin names it (a file path, or the generator), origin_lines[i] is the
  // 1-based source line of text line i+1 (empty: the same numbering).
  std::string origin;
  std::vector<int> origin_lines;
};

class Generator {
 public:
  virtual ~Generator() = default;
  // The spec that selects it: "kube-iptables", "kube-nftables", "ruleset:PATH"...
  virtual std::string name() const = 0;
  // The rules for node `node` (by name) of the cluster.
  virtual RuleSet generate(const Cluster& cluster, const std::string& node) const = 0;
};

}  // namespace harness
