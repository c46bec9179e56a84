// kube-proxy's nftables mode, IPv4: one `table ip kube-proxy` as an nft -f
// script that installs (and re-installs) atomically in one transaction.
#pragma once

#include <string>

#include "harness/generators/generator.h"

namespace harness {

class KubeNftablesGenerator : public Generator {
 public:
  struct Options {
    // Flush the table's chains (`flush table`) and its maps and sets (not the
    // affinity sets) before writing them again, so that re-applying is
    // kube-proxy's re-sync in one transaction: session affinity survives it.
    // Off: just the table's content, as kube-proxy's transaction dumps list it
    // (the golden comparison).
    bool replace_table = true;
    // No pre-1.19 port-name option as in KubeIptablesGenerator: nftables mode
    // came with kube-proxy 1.29, which spells an unnamed port's ServicePortName
    // "ns/name" (the comments), and its chain names never held that string.
  };

  KubeNftablesGenerator() = default;
  explicit KubeNftablesGenerator(Options options) : options_(options) {}

  std::string name() const override { return "kube-nftables"; }
  ProxyMode mode() const override { return ProxyMode::Nftables; }
  bool needs_conntrack_cleanup() const override { return true; }
  // Declarations (table, sets, maps, chains) first, then rules and elements,
  // so nft -f accepts it. Node ports: ProxyOptions.node_port_addresses, or,
  // when empty, kube-proxy's nftables default "primary" (the node's first IP);
  // a 0.0.0.0/0 entry means every local address.
  RuleSet generate(const Cluster& cluster, const std::string& node) const override;

  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace harness
