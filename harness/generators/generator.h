// A generator turns the model into the rules one node's proxy would install.
#pragma once

#include <memory>
#include <string>

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
