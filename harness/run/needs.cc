#include "harness/run/needs.h"

#include <fmt/format.h>

#include <algorithm>

#include "harness/generators/registry.h"
#include "harness/run/runner.h"

namespace harness {

std::vector<std::string> features_needed_by(const std::vector<Case>& cases) {
  std::vector<std::string> out;
  for (const auto& c : cases)
    for (const auto& spec : generators_for(c, RunOptions{}))
      for (const auto& f : make_generator(spec)->needs(c.cluster))
        if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  return out;
}

std::optional<std::string> skip_reason(const FeatureReport& report, const std::vector<std::string>& required) {
  for (const auto& name : required) {
    const FeatureStatus* f = report.find(name);
    if (f && !f->ok) return fmt::format("skipped: needs {} ({})", name, f->reason);
  }
  return std::nullopt;
}

}  // namespace harness
