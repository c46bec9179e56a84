// What a case needs from a proxy, by name, with the kube-proxy version that
// brought each feature: the one table of them. A case lists its needs in
// `requires:`; a generator declares the kube-proxy version it implements
// (exec/proxy,version=1.20.2), and a run whose generator is older than a
// feature the case requires is skipped with the reason, not failed.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

struct KubeVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const KubeVersion&) const = default;
  std::string str() const;  // "1.21" when patch is 0, else "1.20.2"
};

// "1.20", "1.20.2" or "v1.20.2"; nullopt for anything else.
std::optional<KubeVersion> parse_version(std::string_view text);

struct ProxyFeature {
  std::string_view name;  // as a case's `requires:` spells it
  KubeVersion since;      // the first kube-proxy release that has it (on by default or behind a gate)
  std::string_view what;  // one line, for the skip reason and the docs
};

// Every feature a case may require, in the order the docs list them.
const std::vector<ProxyFeature>& proxy_features();
const ProxyFeature* find_proxy_feature(std::string_view name);

// Why a generator implementing kube-proxy `version` cannot run a case that
// requires `needs`: "needs internalTrafficPolicy (kube-proxy 1.21+: ...), the
// generator declares 1.20.2". nullopt when it can, or when `version` is empty
// (a generator that declares no version is held to every feature).
std::optional<std::string> missing_proxy_feature(const std::vector<std::string>& needs, const std::string& version);

}  // namespace harness
