#include "harness/generators/generator.h"

#include <algorithm>
#include <filesystem>

#include <sys/socket.h>

#include "harness/generators/kube_iptables.h"
#include "harness/rules/counters.h"
#include "harness/rules/features.h"
#include "netns/pins.h"
#include "netns/sandbox.h"

namespace harness {

std::vector<std::string> Generator::needs(const Cluster& cluster) const { return mode_needs(mode(), cluster); }

namespace {

bool uses_sctp(const Cluster& cluster) {
  auto sctp = [](const auto& port) { return port.protocol == Protocol::SCTP; };
  return std::any_of(cluster.services.begin(), cluster.services.end(),
                     [&](const Service& s) { return std::any_of(s.ports.begin(), s.ports.end(), sctp); }) ||
         std::any_of(cluster.pods.begin(), cluster.pods.end(),
                     [&](const Pod& p) { return std::any_of(p.listen.begin(), p.listen.end(), sctp); });
}

// Whatever the mode, an IPv6 family needs IPv6 in the namespaces, and an SCTP
// port SCTP sockets for its servers and probes.
std::vector<std::string> with_family_needs(std::vector<std::string> out, const Cluster& cluster) {
  const auto families = cluster.families();
  if (std::find(families.begin(), families.end(), AF_INET6) != families.end()) out.push_back(feature::kIpv6);
  if (uses_sctp(cluster)) out.push_back(feature::kSctp);
  return out;
}

}  // namespace

Applied Generator::apply(const Cluster&, const std::string&, const netns::Namespace& node_ns, RuleSet rules,
                         const ApplyOptions& options) const {
  return install_node_rules(node_ns, std::move(rules), options);
}

std::unique_ptr<LiveGenerator> Generator::start(const Cluster&, const NamespaceOf&, const StartOptions&) const {
  return nullptr;
}

HeldNamespaces held_namespaces(const Cluster& cluster, const NamespaceOf& ns) {
  HeldNamespaces held;
  if (!ns) return held;
  auto hold = [&](const std::string& name) {
    held.paths[name] = netns::held_fd_path(held.fds.size());
    held.fds.push_back(ns(name).fd());
  };
  for (const auto& n : cluster.nodes) hold(n.name);
  for (const auto& p : cluster.pods) hold(p.name);
  for (const auto& e : cluster.externals) hold(e.name);
  return held;
}

std::vector<std::string> remove_stale_scratch(const std::string& root) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    for (const char* prefix : {kProxyScratch, kExecScratch}) {
      auto owner = netns::owner_in_name(name, prefix);
      if (!owner || owner->alive() || !entry.is_directory(ec)) continue;
      std::filesystem::remove_all(entry.path(), ec);
      if (!ec) removed.push_back(entry.path().string());
    }
  }
  return removed;
}

std::vector<std::string> mode_needs(ProxyMode mode, const Cluster& cluster) {
  switch (mode) {
    case ProxyMode::None: return with_family_needs({}, cluster);
    case ProxyMode::Iptables: {
      std::vector<std::string> out = {feature::kNat,     feature::kStatistic,  feature::kAddrtype,
                                      feature::kComment, feature::kMasquerade, feature::kReject};
      if (std::any_of(cluster.services.begin(), cluster.services.end(),
                      [](const Service& s) { return s.session_affinity_client_ip; }))
        out.push_back(feature::kRecent);
      return with_family_needs(out, cluster);
    }
    case ProxyMode::Nftables: {
      std::vector<std::string> out = {feature::kNumgen};
      if (cluster.proxy.random_fully) out.push_back(feature::kNftMasqueradeFullyRandom);
      return with_family_needs(out, cluster);
    }
  }
  return {};
}

Applied install_node_rules(const netns::Namespace& node_ns, RuleSet rules, const ApplyOptions& options) {
  Applied applied;
  if (options.nft_counters && rules.backend == RuleBackend::Nft) {
    rules.text = add_nft_counters(rules.text);
    applied.additions.push_back("a counter statement on every nft rule (--coverage)");
  }
  for (auto& done : prepare_for_rules(node_ns, rules)) applied.additions.push_back(std::move(done));
  if (std::string jumps = kube_proxy_jumps_for(rules); !jumps.empty()) {
    rules = with_added_lines(rules, jumps);
    applied.additions.push_back("kube-proxy's base-chain jumps, which its restore input leaves out:\n" + jumps);
  }
  for (auto& note : install_rules(node_ns, rules, options.install)) applied.additions.push_back(std::move(note));
  applied.rules = std::move(rules);
  return applied;
}

}  // namespace harness
