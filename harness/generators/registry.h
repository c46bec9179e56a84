// Builds a generator from its spec (iproute2's link_util lookup, for rules).
#pragma once

#include <memory>

#include "harness/generators/generator.h"
#include "harness/model/generator_spec.h"

namespace harness {

std::unique_ptr<Generator> make_generator(const GeneratorSpec& spec);

}  // namespace harness
