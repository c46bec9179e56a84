// `kpath doctor`: what this machine is (kernel, iptables and nft versions,
// privileges) and which kernel features the cases rely on actually work. Each
// feature is tried for real in a scratch namespace, never the root one, so a
// missing module shows up here rather than as a confusing failure mid-suite.
// Runs whose generator needs a missing feature are skipped with the reason.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "harness/rules/features.h"
#include "harness/rules/installer.h"

namespace harness {

struct FeatureStatus {
  std::string name;
  bool ok = false;
  std::string reason;  // why it is missing (one line)
};

struct FeatureReport {
  std::vector<FeatureStatus> features;

  // nullptr for a feature that was not probed.
  const FeatureStatus* find(const std::string& name) const;
  // A feature that was not probed counts as present: nothing says otherwise.
  bool has(const std::string& name) const;
};

struct Fingerprint {
  std::string kernel;           // uname release
  std::string iptables_nft;     // `iptables-nft --version`, or why not
  std::string iptables_legacy;  // `iptables-legacy --version`, or why not
  std::string nft;              // `nft --version`, or why not
  bool net_admin = false;       // CAP_NET_ADMIN in the effective set
};

Fingerprint fingerprint();

// Tries every feature, each in its own scratch namespace; iptables features
// with the given iptables variant. Never throws: a probe that cannot run
// reports its feature missing with the reason.
FeatureReport probe_all_features(IptablesVariant iptables = IptablesVariant::Nft);

// Probes once, on first use, and keeps the answer: the kernel's features do not
// change while kpath runs. Safe to share between runner threads.
class FeatureProbe {
 public:
  explicit FeatureProbe(IptablesVariant iptables = IptablesVariant::Nft) : iptables_(iptables) {}
  const FeatureReport& report();

 private:
  IptablesVariant iptables_;
  std::once_flag once_;
  FeatureReport report_;
};

// The process-wide cached report (iptables-nft variant).
FeatureReport probe_features();

// The doctor's output: the fingerprint, then one line per feature; `needed`
// marks the features the bundled cases need.
std::string format_doctor(const Fingerprint& fp, const FeatureReport& report, const std::vector<std::string>& needed);

// What rootless mode needs from this machine, found without creating anything.
struct RootlessReadiness {
  std::vector<std::string> blockers;         // sysctls that forbid user namespaces
  std::vector<std::string> missing_modules;  // loadable but not loaded
  bool in_user_namespace = false;            // already inside one
  std::string id_mapping;                    // which mapping kpath run will use, and why
  bool ready() const { return blockers.empty() && missing_modules.empty(); }
};

RootlessReadiness rootless_readiness();
std::string format_rootless(const RootlessReadiness& r, bool as_root);

}  // namespace harness
