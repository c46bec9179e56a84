#include "harness/generators/builtin.h"

#include "harness/generators/kube_iptables.h"
#include "harness/generators/kube_nftables.h"

namespace harness {

std::unique_ptr<Generator> make_builtin_generator(const std::string& name) {
  if (name == "kube-iptables") return std::make_unique<KubeIptablesGenerator>();
  if (name == "kube-nftables") return std::make_unique<KubeNftablesGenerator>();
  return nullptr;
}

}  // namespace harness
