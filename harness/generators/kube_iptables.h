// kube-proxy's iptables mode: the iptables-restore input its IPv4 proxier
// writes (filter + nat) and the ip6tables-restore input of its IPv6 one, plus
// the base-chain jumps it installs separately.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include "harness/generators/generator.h"

namespace harness {

class KubeIptablesGenerator : public Generator {
 public:
  struct Options {
    // generate() adds the base-chain jumps (PREROUTING/OUTPUT -> KUBE-SERVICES,
    // ...) and declares the built-in chains, so its text installs standalone
    // into an empty namespace with a plain iptables-restore.
    bool base_chain_jumps = true;
    // kube-proxy adds `-m nfacct` matches (the INVALID drop counter, the
    // localhost NodePort rule) only when its nfacct objects
    // ct_state_invalid_dropped_pkts / localhost_nps_accepted_pkts exist. Off:
    // the rules kube-proxy writes when nfacct is unavailable (no counter on the
    // INVALID drop, no separate localhost NodePort rule; the generic NodePort
    // rule still matches 127.0.0.0/8). On: whoever installs must create the
    // nfacct objects in the namespace first.
    bool nfacct = false;
    // kube-proxy before 1.19 spelled an unnamed Service port "ns/name:" (with
    // the colon) in its chain hashes and comments; since 1.19 "ns/name". On:
    // the old names, e.g. KUBE-SVC-J2DWGRZTH4C2LPA4 rather than
    // KUBE-SVC-X42AMYO3K4UIBY54 for the seed Service (cases/seed/).
    bool pre_1_19_port_names = false;
  };

  KubeIptablesGenerator() = default;
  explicit KubeIptablesGenerator(Options options) : options_(options) {}

  std::string name() const override {
    return options_.pre_1_19_port_names ? "kube-iptables,port-names=pre-1.19" : "kube-iptables";
  }
  ProxyMode mode() const override { return ProxyMode::Iptables; }
  std::vector<std::string> needs(const Cluster& cluster) const override;
  bool needs_conntrack_cleanup() const override { return true; }
  RuleSet generate(const Cluster& cluster, const std::string& node) const override;
  // A re-sync deletes the service chains the node holds that the new rules no
  // longer use, as kube-proxy does: it reads the node's nat table
  // (iptables-save -t nat, per family) and adds with_stale_chains_deleted's
  // lines before installing.
  Applied apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns, RuleSet rules,
                const ApplyOptions& options) const override;

  // Exactly what kube-proxy hands to iptables-restore (--noflush): `*filter ...
  // COMMIT` then `*nat ... COMMIT`, no built-in chains, no base-chain jumps.
  // `family` AF_INET6: the IPv6 proxier's, for ip6tables-restore.
  std::string restore_input(const Cluster& cluster, const std::string& node, int family = AF_INET) const;
  // restore_input with the built-in chains declared and the base-chain jumps
  // added, so it installs standalone (what generate() writes by default).
  std::string standalone_input(const Cluster& cluster, const std::string& node, int family = AF_INET) const;

  // The jumps kube-proxy (and kubelet, for KUBE-FIREWALL) insert into the
  // built-in chains with `iptables -I`, as iptables-restore --noflush input
  // (apply after restore_input: the KUBE-* chains must exist). Their order in
  // each built-in chain is the one kube-proxy's successive inserts produce.
  std::string base_chain_jumps() const;

  const Options& options() const { return options_; }

 private:
  Options options_;
};

// kube-proxy's per-Service chains (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-,
// KUBE-SEP-): the only ones it deletes when a sync no longer uses them.
bool is_service_chain(std::string_view chain);

// The chain names the *nat table of iptables-save (or iptables-restore) text declares.
std::vector<std::string> nat_chains(const std::string& text);

// kube-proxy's stale-chain deletion: every service chain of `existing` (what
// the node's nat table holds) that `restore` does not declare is declared in
// its nat table (which flushes it) and deleted, `-X CHAIN` after the other
// rules and before the KUBE-NODEPORTS tail call, as kube-proxy writes them
// (pkg/proxy/iptables/proxier.go; TestSyncProxyRulesRepeated expects the
// chain line and the -X line). Sorted by name, where kube-proxy's map order is
// random. `restore` unchanged when nothing is stale.
std::string with_stale_chains_deleted(const std::string& restore, const std::vector<std::string>& existing);

// kube-proxy writes the jumps from the built-in chains (PREROUTING -> KUBE-SERVICES
// and the rest) outside its iptables-restore input, so a dump of that input alone
// carries no traffic. When rules declare KUBE-SERVICES but nothing jumps to it,
// returns kube-proxy's jumps to the chains the rules declare (iptables-restore
// input); else nothing.
std::string kube_proxy_jumps_for(const RuleSet& rules);

}  // namespace harness
