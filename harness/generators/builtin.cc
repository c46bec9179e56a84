#include "harness/generators/builtin.h"

#include "harness/generators/kube_iptables.h"

namespace harness {

std::unique_ptr<Generator> make_builtin_generator(const std::string& name) {
  if (name == "kube-iptables") return std::make_unique<KubeIptablesGenerator>();
  return nullptr;
}

}  // namespace harness
