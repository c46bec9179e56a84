// A generator turns the model into the rules one node's proxy would install,
// and puts them in place on that node. The registry (registry.h) builds one
// from a GeneratorSpec.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/model/generator_spec.h"
#include "harness/model/model.h"
#include "harness/rules/installer.h"
#include "harness/rules/ruleset.h"
#include "netns/namespace.h"

namespace harness {

// A node or pod namespace by name (the topology's), for generators that need more than a node's.
using NamespaceOf = std::function<const netns::Namespace&(const std::string& name)>;

struct ApplyOptions {
  InstallOptions install;
  // The first install of a run, or a later sync after endpoint changes.
  bool first = true;
  // Give every nft rule a counter (coverage), where the rules carry none.
  bool nft_counters = false;
  // For generators that run a program (wants_scratch()): the run's namespaces
  // and its scratch directory, kept from one sync to the next. Null/empty
  // where a caller has none (kpath mutate, diff).
  NamespaceOf namespaces;
  std::string scratch;
};

// The case's namespaces (nodes, pods, external clients) for a program's
// sandbox to hold, and the path each has inside it (netns::held_fd_path).
struct HeldNamespaces {
  std::vector<int> fds;
  std::map<std::string, std::string> paths;
};
HeldNamespaces held_namespaces(const Cluster& cluster, const NamespaceOf& ns);

// What went onto a node: the rules as installed, and what kpath added on its
// own (nfacct objects, sysctls, base-chain jumps), one line each, so a run can
// list every change that did not come from the generator.
struct Applied {
  RuleSet rules;
  std::vector<std::string> additions;
};

// How long one model change took to show on the nodes, and how kpath saw it.
struct Convergence {
  std::chrono::microseconds elapsed{0};
  // "rules stable": the ruleset changed and then held still; "rules unchanged":
  // it did not change within the quiet bound (the change needed no new rules).
  std::string how;
};

// The per-run scratch directories of programs (ApplyOptions::scratch,
// StartOptions::scratch_root) are named netns::owned_name(one of these)-XXXXXX.
inline constexpr const char* kProxyScratch = "kpath-proxy";
inline constexpr const char* kExecScratch = "kpath-exec";

// Removes the scratch directories under root whose kpath has exited (it
// removes its own unless killed); returns their paths. For `kpath cleanup`.
std::vector<std::string> remove_stale_scratch(const std::string& root = "/var/tmp");

// What a generator that keeps programs running is given at the start of a run.
struct StartOptions {
  InstallOptions install;  // the iptables variant (for reading a node's rules) and the installer timeout
  std::chrono::milliseconds converge_timeout{std::chrono::seconds(60)};
  std::string scratch_root = "/var/tmp";  // a per-run scratch directory is made under it
};

// A generator's programs kept running through one run (proxy:): started once
// the topology and kpath's own preparations are there, told of every model
// change, stopped when it is destroyed, which the runner does before the
// topology goes. Every wait is bounded: kpath::Error when a node does not
// converge.
class LiveGenerator {
 public:
  virtual ~LiveGenerator() = default;
  // Waits until every node has programmed the model it was started with.
  virtual Convergence converge() = 0;
  // Delivers a new model (as watch events, not a restart) and waits until every node has programmed it.
  virtual Convergence changed(const Cluster& cluster) = 0;
  // The tail of each node's program log, for a failure or an ERROR.
  virtual std::string log_tails() const = 0;
  // Copies the logs into dir (created); returns the files written.
  virtual std::vector<std::string> keep_logs(const std::string& dir) const = 0;
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
  // A generator that runs a program at every sync gets a scratch directory
  // for the run (ApplyOptions::scratch).
  virtual bool wants_scratch() const { return false; }

  // The rules for node `node` of the cluster, made before any namespace
  // exists (a broken generator costs no topology). RuleBackend::None: nothing.
  virtual RuleSet generate(const Cluster& cluster, const std::string& node) const = 0;

  // Puts node's rules in place: `rules` is what generate() returned for it.
  // The default installs them as a proxy does (install_node_rules); a
  // generator that programs the node itself overrides this.
  virtual Applied apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns, RuleSet rules,
                        const ApplyOptions& options) const;

  // A generator that is a long-running program starts it on every node here,
  // after the first apply(); endpoint changes then go to the returned object
  // instead of apply(). nullptr (the default): a rule writer, applied at every sync.
  virtual std::unique_ptr<LiveGenerator> start(const Cluster& cluster, const NamespaceOf& ns,
                                               const StartOptions& options) const;
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
