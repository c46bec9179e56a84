// A generator turns the model into the rules one node's proxy would install,
// and puts them in place on that node. The registry (registry.h) builds one
// from a GeneratorSpec.
#pragma once

#include <string>
#include <vector>

#include "harness/model/generator_spec.h"
#include "harness/model/model.h"
#include "harness/rules/installer.h"
#include "harness/rules/ruleset.h"
#include "netns/namespace.h"

namespace harness {

struct ApplyOptions {
  InstallOptions install;
  // The first install of a run, or a later sync after endpoint changes.
  bool first = true;
  // Give every nft rule a counter (coverage), where the rules carry none.
  bool nft_counters = false;
};

// What went onto a node: the rules as installed, and what kpath added on its
// own (nfacct objects, sysctls, base-chain jumps), one line each, so a run can
// list every change that did not come from the generator.
struct Applied {
  RuleSet rules;
  std::vector<std::string> additions;
};

class Generator {
 public:
  virtual ~Generator() = default;

  // Its name in reports and `except:` keys: "kube-iptables", "ruleset:FILE", "exec:COMMAND".
  virtual std::string name() const = 0;
  // The kube-proxy mode it implements; `except:` verdicts follow it.
  virtual ProxyMode mode() const = 0;
  // The kernel features its rules need for this cluster (rules/features.h),
  // from what the generator is, never from the text it writes.
  virtual std::vector<std::string> needs(const Cluster& cluster) const;
  // kube-proxy deletes UDP conntrack entries of endpoints that stop serving;
  // true when kpath must do that for this generator after endpoint changes
  // (rule writers that are not a running proxy).
  virtual bool needs_conntrack_cleanup() const { return false; }
  // kube-proxy answers each health-check node port itself; false: kpath
  // stands in for it (rule writers that are not a running proxy).
  virtual bool serves_health_checks() const { return false; }

  // The rules for node `node` of the cluster, made before any namespace
  // exists (a broken generator costs no topology). RuleBackend::None: nothing.
  virtual RuleSet generate(const Cluster& cluster, const std::string& node) const = 0;

  // Puts node's rules in place: `rules` is what generate() returned for it.
  // The default installs them as a proxy does (install_node_rules); a
  // generator that programs the node itself overrides this.
  virtual Applied apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns,
                        RuleSet rules, const ApplyOptions& options) const;
};

// The kernel features kube-proxy's rules need in a mode, for this cluster.
std::vector<std::string> mode_needs(ProxyMode mode, const Cluster& cluster);

// Installs rules on a node exactly as written, the same way at the first
// install and at every sync: iptables-restore replaces each table the text
// names as a whole (one transaction per table, as kube-proxy's restore of its
// own chains is one), an nft script goes in with nft -f (kube-proxy's scripts
// replace their table themselves). Before that, what kube-proxy prepares
// (nfacct objects, route_localnet); into the same transaction, kube-proxy's
// base-chain jumps when an iptables dump declares its chains but lacks them.
Applied install_node_rules(const netns::Namespace& node_ns, RuleSet rules, const ApplyOptions& options);

}  // namespace harness
