#include "harness/generators/registry.h"

#include "harness/generators/exec_generator.h"
#include "harness/generators/kube_iptables.h"
#include "harness/generators/kube_nftables.h"
#include "harness/generators/proxy_generator.h"
#include "harness/generators/ruleset_file.h"

namespace harness {

std::unique_ptr<Generator> make_generator(const GeneratorSpec& spec) {
  switch (spec.kind) {
    case GeneratorSpec::Kind::KubeIptables: {
      KubeIptablesGenerator::Options options;
      options.pre_1_19_port_names = spec.pre_1_19_port_names;
      return std::make_unique<KubeIptablesGenerator>(options);
    }
    case GeneratorSpec::Kind::KubeNftables: return std::make_unique<KubeNftablesGenerator>();
    case GeneratorSpec::Kind::Ruleset: return std::make_unique<RulesetFileGenerator>(spec);
    case GeneratorSpec::Kind::Exec: return std::make_unique<ExecGenerator>(spec.argument, spec.base, spec.mode);
    case GeneratorSpec::Kind::Proxy: return std::make_unique<ProxyGenerator>(spec.argument, spec.base, spec.mode);
  }
  return nullptr;
}

}  // namespace harness
