#include "harness/generators/generator.h"

#include <algorithm>

#include "harness/generators/kube_iptables.h"
#include "harness/rules/counters.h"
#include "harness/rules/features.h"

namespace harness {

std::vector<std::string> Generator::needs(const Cluster& cluster) const { return mode_needs(mode(), cluster); }

RuleSet Generator::apply(const Cluster&, const std::string&, const netns::Namespace& node_ns, RuleSet rules,
                         const ApplyOptions& options) const {
  install_node_rules(node_ns, rules, options);
  return rules;
}

std::vector<std::string> mode_needs(ProxyMode mode, const Cluster& cluster) {
  switch (mode) {
    case ProxyMode::None: return {};
    case ProxyMode::Iptables: {
      std::vector<std::string> out = {feature::kNat,     feature::kStatistic,  feature::kAddrtype,
                                      feature::kComment, feature::kMasquerade, feature::kReject};
      if (std::any_of(cluster.services.begin(), cluster.services.end(),
                      [](const Service& s) { return s.session_affinity_client_ip; }))
        out.push_back(feature::kRecent);
      return out;
    }
    case ProxyMode::Nftables: {
      std::vector<std::string> out = {feature::kNumgen};
      if (cluster.proxy.random_fully) out.push_back(feature::kNftMasqueradeFullyRandom);
      return out;
    }
  }
  return {};
}

void install_node_rules(const netns::Namespace& node_ns, RuleSet& rules, const ApplyOptions& options) {
  if (options.nft_counters && rules.backend == RuleBackend::Nft) rules.text = add_nft_counters(rules.text);
  if (!options.first) return reinstall_rules(node_ns, rules, options.install);
  prepare_for_rules(node_ns, rules);
  install_rules(node_ns, rules, options.install);
  add_kube_proxy_jumps(node_ns, rules, options.install);
}

}  // namespace harness
