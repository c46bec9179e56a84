// The generators built into kpath, by name.
#pragma once

#include <memory>
#include <string>

#include "harness/generators/generator.h"

namespace harness {

// "kube-iptables" or "kube-nftables" (default options); nullptr for any other name.
std::unique_ptr<Generator> make_builtin_generator(const std::string& name);

}  // namespace harness
