// Generator "proxy:COMMAND": a real Service proxy (kube-proxy, or any daemon
// that lists and watches Services and EndpointSlices), run unmodified. On each
// node kpath serves the Kubernetes API on 127.0.0.1 (harness/apiserver) and
// starts COMMAND once with `sh -c`, in that node's sandbox, with KPATH_API,
// KPATH_NODE and KUBECONFIG in its environment; it keeps running for the whole
// case. kpath installs no rules for it: it waits until the node's ruleset has
// changed and held still (convergence), and delivers endpoint changes as watch
// events. The contract: docs/proxies.md.
#pragma once

#include <memory>
#include <string>

#include "harness/generators/generator.h"

namespace harness {

class ProxyGenerator : public Generator {
 public:
  ProxyGenerator(std::string command, std::string base, ProxyMode mode = ProxyMode::None)
      : command_(std::move(command)), base_(std::move(base)), mode_(mode) {}

  std::string name() const override { return "proxy:" + command_; }
  ProxyMode mode() const override { return mode_; }
  // The proxy writes its rules itself, on the node.
  RuleSet generate(const Cluster&, const std::string&) const override { return {RuleBackend::None, {}, name(), {}}; }
  // Installs nothing of the proxy's; at the first apply, what kubelet would
  // have put on the node for an iptables-mode kube-proxy (kubelet_chains()).
  Applied apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns, RuleSet rules,
                const ApplyOptions& options) const override;
  // The API server and one proxy per node.
  std::unique_ptr<LiveGenerator> start(const Cluster& cluster, const NamespaceOf& ns,
                                       const StartOptions& options) const override;

 private:
  std::string command_;
  std::string base_;  // the proxy's working directory: relative paths in the command resolve there
  ProxyMode mode_;
};

// kubelet's chains that kube-proxy 1.20's iptables rules jump to and never
// create: KUBE-MARK-DROP (nat) and KUBE-FIREWALL (filter, jumped to from INPUT
// and OUTPUT), as kubelet 1.20 writes them, marking with bit `drop_bit`.
// iptables-restore --noflush input.
std::string kubelet_chains(int drop_bit);
// kubelet's --iptables-drop-bit (15), moved to 16 when the case's masquerade
// bit is 15: an operator must set them apart, or masqueraded traffic is dropped.
int kubelet_drop_bit(int masquerade_bit);

// A node's rules as text that changes only when rules change: `nft -s list
// ruleset` (no counters; covers iptables-nft), plus iptables-legacy-save
// without counters under the legacy variant.
std::string node_ruleset_text(const netns::Namespace& node_ns, IptablesVariant variant);

}  // namespace harness
