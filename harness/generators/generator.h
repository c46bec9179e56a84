// A generator turns the model into the rules one node's proxy would install.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harness/model/model.h"
#include "harness/rules/ruleset.h"

namespace harness {

class Generator {
 public:
  virtual ~Generator() = default;
  // The spec that selects it: "kube-iptables", "kube-nftables", "ruleset:PATH"...
  virtual std::string name() const = 0;
  // The rules for node `node` (by name) of the cluster.
  virtual RuleSet generate(const Cluster& cluster, const std::string& node) const = 0;
};

}  // namespace harness
