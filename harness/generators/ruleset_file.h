// Generator "ruleset:...": static dumps taken from real nodes, iptables-save
// files or nft scripts. Each is checked line by line before any installer
// sees it, so a broken dump is reported at its own line. A single dump is one
// node's rules: it goes on the case's first node only; a folder or a
// NODE=PATH list gives each node its own (nodes without one only route).
#pragma once

#include <string>

#include "harness/generators/generator.h"

namespace harness {

class RulesetFileGenerator : public Generator {
 public:
  // A single dump (on the first node), from a path.
  explicit RulesetFileGenerator(std::string path, ProxyMode mode = ProxyMode::None)
      : spec_(GeneratorSpec{GeneratorSpec::Kind::Ruleset, mode, std::move(path), {}}) {}
  // Any ruleset form.
  explicit RulesetFileGenerator(GeneratorSpec spec) : spec_(std::move(spec)) {}
  std::string name() const override;
  // None unless declared (ruleset,mode=iptables:PATH): a dump may come from
  // any proxy, and only its author knows which kube-proxy mode it follows.
  ProxyMode mode() const override { return spec_.mode; }
  RuleSet generate(const Cluster& cluster, const std::string& node) const override;

 private:
  GeneratorSpec spec_;
};

// Checks iptables-save text: tables opened with *name and closed by COMMIT,
// chain declarations, rules starting with an option (-A CHAIN ...). Throws
// kpath::Error(file, line, ...) at the first line that is none of these.
void check_iptables_save(const std::string& text, const std::string& file);

// Reorders an nft script in kube-proxy's "add/flush/delete" transaction style
// so declarations (table, chains, sets, maps) come before rules and elements,
// keeping each group's order; origin_lines records where each line came from.
RuleSet order_nft_declarations_first(const std::string& text, const std::string& file);

}  // namespace harness
