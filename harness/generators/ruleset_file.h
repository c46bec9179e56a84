// Generator "ruleset:PATH": a static dump taken from a real node, an
// iptables-save file or an nft script. It is checked line by line before any
// installer sees it, so a broken dump is reported at its own line. A dump is
// one node's rules: it is installed on the case's first node only.
#pragma once

#include <string>

#include "harness/generators/generator.h"

namespace harness {

class RulesetFileGenerator : public Generator {
 public:
  explicit RulesetFileGenerator(std::string path, ProxyMode mode = ProxyMode::None)
      : path_(std::move(path)), mode_(mode) {}
  std::string name() const override;
  // None unless declared (ruleset,mode=iptables:PATH): a dump may come from
  // any proxy, and only its author knows which kube-proxy mode it follows.
  ProxyMode mode() const override { return mode_; }
  RuleSet generate(const Cluster& cluster, const std::string& node) const override;

 private:
  std::string path_;
  ProxyMode mode_;
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
