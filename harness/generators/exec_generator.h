// Generator "exec:COMMAND": any program, in any language. It runs inside the
// node namespace (`sh -c COMMAND`), reads the model as JSON on stdin, and
// either prints rules (iptables-restore input, or an nft script) or prints
// nothing and installs them itself, like a real proxy.
#pragma once

#include <string>

#include "harness/rules/installer.h"
#include "harness/generators/generator.h"
#include "netns/namespace.h"

namespace harness {

class ExecGenerator : public Generator {
 public:
  explicit ExecGenerator(std::string command) : command_(std::move(command)) {}
  std::string name() const override { return "exec:" + command_; }
  // The command can only run inside the node's namespace: see apply().
  RuleSet generate(const Cluster&, const std::string&) const override { return {RuleBackend::AppliedItself, {}, name(), {}}; }
  // Runs the command in `node_ns`; returns what it printed, classified.
  RuleSet apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns,
                const InstallOptions& options) const;

 private:
  std::string command_;
};

// Which installer takes this text: iptables-restore input starts with a
// *table line; anything else non-empty is an nft script.
RuleBackend classify_rules(const std::string& text);

}  // namespace harness
