#include "harness/model/proxy_features.h"

#include <charconv>

namespace harness {

std::string KubeVersion::str() const {
  std::string s = std::to_string(major) + "." + std::to_string(minor);
  return patch ? s + "." + std::to_string(patch) : s;
}

std::optional<KubeVersion> parse_version(std::string_view text) {
  if (text.starts_with('v')) text.remove_prefix(1);
  int parts[3] = {0, 0, 0};
  int n = 0;
  while (n < 3) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parts[n]);
    if (ec != std::errc() || end == text.data() || parts[n] < 0) return std::nullopt;
    ++n;
    text.remove_prefix(static_cast<size_t>(end - text.data()));
    if (text.empty()) break;
    if (text.front() != '.') return std::nullopt;
    text.remove_prefix(1);
  }
  if (n < 2 || !text.empty()) return std::nullopt;
  return KubeVersion{parts[0], parts[1], parts[2]};
}

const std::vector<ProxyFeature>& proxy_features() {
  // Versions are kube-proxy's: the release whose proxier first implements the
  // behaviour (KEP feature gates: alpha counts, since a test runs with gates on).
  static const std::vector<ProxyFeature> table = {
      {"endpointSlices", {1, 19, 0}, "reads EndpointSlices (discovery.k8s.io) by default, not Endpoints"},
      {"internalTrafficPolicy", {1, 21, 0}, "spec.internalTrafficPolicy: Local (KEP-2086)"},
      {"terminatingEndpoints", {1, 22, 0}, "falls back to serving terminating endpoints when none is ready (KEP-1669)"},
      {"discoveryV1", {1, 21, 0}, "reads EndpointSlices from discovery.k8s.io/v1 (1.20 reads v1beta1)"},
      {"nftablesMode", {1, 29, 0}, "--proxy-mode=nftables (KEP-3866)"},
      {"healthCheckNodePortAccept",
       {1, 21, 0},
       "accepts each health-check node port in filter INPUT itself, so a node whose INPUT policy is DROP still "
       "answers it (kubernetes#97225)"},
      {"forwardedDrops",
       {1, 25, 0},
       "drops in filter FORWARD too what it must drop (LB traffic from outside loadBalancerSourceRanges, "
       "externalTrafficPolicy Local traffic at a node without a local endpoint); before, it only marked such traffic "
       "for kubelet's KUBE-FIREWALL, which sits in INPUT and OUTPUT, so traffic the node forwards went through "
       "(KEP-3178)"},
      {"dualStack",
       {1, 21, 0},
       "runs both families' proxiers at once (IPv6DualStack on by default; 1.20 needs --feature-gates="
       "IPv6DualStack=true and a --cluster-cidr per family, which $KPATH_KUBE_PROXY_FLAGS does not pass)"},
      {"trafficDistribution",
       {1, 30, 0},
       "topology-aware routing by EndpointSlice zone hints for a Service with spec.trafficDistribution PreferClose or "
       "the service.kubernetes.io/topology-mode annotation Auto (KEP-4444, KEP-2433)"},
      {"loadBalancerIPMode",
       {1, 29, 0},
       "writes no rule for a load-balancer ingress IP with ipMode Proxy (LoadBalancerIPMode, KEP-1860)"},
      {"zeroSourceRangeAllowsAll",
       {1, 34, 0},
       "treats loadBalancerSourceRanges holding 0.0.0.0/0 (::/0 for IPv6) as no ranges, per family: no firewall "
       "chain, every source reaches the LoadBalancer IP (kubernetes PR 132722)"},
  };
  return table;
}

const ProxyFeature* find_proxy_feature(std::string_view name) {
  for (const auto& f : proxy_features())
    if (f.name == name) return &f;
  return nullptr;
}

std::optional<std::string> missing_proxy_feature(const std::vector<std::string>& needs, const std::string& version) {
  if (version.empty()) return std::nullopt;
  auto have = parse_version(version);
  if (!have) return "the generator's version '" + version + "' is no kube-proxy version";
  std::string missing;
  for (const auto& name : needs) {
    const ProxyFeature* f = find_proxy_feature(name);
    if (!f || f->since <= *have) continue;
    missing += (missing.empty() ? "" : "; ") + std::string(f->name) + " (kube-proxy " + f->since.str() +
               "+: " + std::string(f->what) + ")";
  }
  if (missing.empty()) return std::nullopt;
  return "needs " + missing + "; the generator declares kube-proxy " + version;
}

}  // namespace harness
