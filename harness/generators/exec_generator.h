// Generator "exec:COMMAND": any program, in any language. It runs inside the
// node namespace (`sh -c COMMAND`) at every sync, reads the model as JSON on
// stdin, and either prints rules (iptables-restore input, or an nft script)
// or prints nothing and installs them itself, like a real proxy.
#pragma once

#include <string>

#include "harness/generators/generator.h"

namespace harness {

class ExecGenerator : public Generator {
 public:
  ExecGenerator(std::string command, std::string base, ProxyMode mode = ProxyMode::None)
      : command_(std::move(command)), base_(std::move(base)), mode_(mode) {}

  std::string name() const override { return "exec:" + command_; }
  ProxyMode mode() const override { return mode_; }
  bool wants_scratch() const override { return true; }
  // The command can only run inside the node's namespace: see apply().
  RuleSet generate(const Cluster&, const std::string&) const override { return {RuleBackend::None, {}, name(), {}}; }
  // Runs the command in `node_ns` and installs what it printed.
  Applied apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns, RuleSet rules,
                const ApplyOptions& options) const override;

 private:
  std::string command_;
  std::string base_;  // relative paths in the command are relative to it
  ProxyMode mode_;
};

// Which installer takes this text: iptables-restore input starts with a
// *table line; anything else non-empty is an nft script; nothing at all means
// the program installed its rules itself.
RuleBackend classify_rules(const std::string& text);

}  // namespace harness
