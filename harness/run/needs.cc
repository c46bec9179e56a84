#include "harness/run/needs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "harness/run/runner.h"

namespace harness {

namespace {

void add(std::vector<std::string>& out, const std::string& name) {
  if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
}

bool mentions(const std::string& text, const std::string& word) {
  auto it = std::search(text.begin(), text.end(), word.begin(), word.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != text.end();
}

// What a rule text itself asks for, beyond the generator kind's base set.
void add_from_text(std::vector<std::string>& out, const std::string& text) {
  if (mentions(text, "nfacct")) add(out, feature::kNfacct);
  if (mentions(text, "ipvs")) add(out, feature::kIpvs);
  if (mentions(text, "-m recent")) add(out, feature::kRecent);
  if (text.find("-j REJECT") != std::string::npos) add(out, feature::kReject);
  if (mentions(text, "masquerade fully-random") || mentions(text, "masquerade random-fully"))
    add(out, feature::kNftMasqueradeFullyRandom);
}

bool any_client_ip_affinity(const Cluster& c) {
  return std::any_of(c.services.begin(), c.services.end(),
                     [](const Service& s) { return s.session_affinity_client_ip; });
}

}  // namespace

std::vector<std::string> required_features(const Case& c, const std::string& generator) {
  std::vector<std::string> out;
  add_from_text(out, generator);
  if (generator.rfind("exec:", 0) == 0) return out;  // its rules exist only once it runs
  std::string text;
  RuleBackend backend = RuleBackend::IptablesRestore;
  try {
    auto g = make_generator(generator, c.file);
    for (const auto& node : c.cluster.nodes) {
      RuleSet rules = g->generate(c.cluster, node.name);
      backend = rules.backend;
      text += rules.text;
    }
  } catch (const std::exception&) {
    return out;  // the run itself reports why the rules cannot be made
  }
  if (backend == RuleBackend::Nft) {
    add(out, feature::kNumgen);
  } else {
    for (const char* f : {feature::kNat, feature::kStatistic, feature::kAddrtype, feature::kComment, feature::kMasquerade})
      add(out, f);
    if (any_client_ip_affinity(c.cluster)) add(out, feature::kRecent);
  }
  add_from_text(out, text);
  return out;
}

std::vector<std::string> features_needed_by(const std::vector<Case>& cases) {
  std::vector<std::string> out;
  for (const auto& c : cases)
    for (const auto& g : generators_for(c, RunOptions{}))
      for (const auto& f : required_features(c, g)) add(out, f);
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
