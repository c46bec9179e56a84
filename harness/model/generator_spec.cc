#include "harness/model/generator_spec.h"

#include <filesystem>

#include "base/error.h"

namespace harness {

namespace fs = std::filesystem;

namespace {

struct KindInfo {
  const char* word;
  GeneratorSpec::Kind kind;
  ProxyMode mode;     // what the kind implies
  bool takes_argument;
};

// The one place the generator kinds are spelled.
constexpr KindInfo kKinds[] = {
    {"kube-iptables", GeneratorSpec::Kind::KubeIptables, ProxyMode::Iptables, false},
    {"kube-nftables", GeneratorSpec::Kind::KubeNftables, ProxyMode::Nftables, false},
    {"ruleset", GeneratorSpec::Kind::Ruleset, ProxyMode::None, true},
    {"exec", GeneratorSpec::Kind::Exec, ProxyMode::None, true},
};

const KindInfo& info(GeneratorSpec::Kind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k;
  throw kpath::Error("unknown generator kind");
}

[[noreturn]] void reject(std::string_view text, const std::string& why) {
  throw kpath::Error("generator '" + std::string(text) + "': " + why + " (" + generator_forms() + ")");
}

ProxyMode parse_mode(std::string_view text, std::string_view value) {
  for (ProxyMode m : {ProxyMode::None, ProxyMode::Iptables, ProxyMode::Nftables})
    if (value == to_string(m)) return m;
  reject(text, "mode must be iptables, nftables or none, got '" + std::string(value) + "'");
}

void apply_option(GeneratorSpec& spec, const KindInfo& kind, std::string_view text, std::string_view option) {
  auto eq = option.find('=');
  std::string_view key = option.substr(0, eq);
  std::string_view value = eq == std::string_view::npos ? std::string_view{} : option.substr(eq + 1);
  if (key == "mode" && !value.empty()) {
    if (!kind.takes_argument) reject(text, std::string(kind.word) + " implements " + to_string(kind.mode) + " mode already");
    spec.mode = parse_mode(text, value);
  } else if (key == "port-names" && spec.kind == GeneratorSpec::Kind::KubeIptables) {
    if (value != "pre-1.19" && value != "current")
      reject(text, "port-names must be current or pre-1.19, got '" + std::string(value) + "'");
    spec.pre_1_19_port_names = value == "pre-1.19";
  } else {
    reject(text, "unknown option '" + std::string(option) +
                     "' (options: mode=iptables|nftables|none; kube-iptables: port-names=pre-1.19)");
  }
}

}  // namespace

std::string to_string(ProxyMode m) {
  switch (m) {
    case ProxyMode::None: return "none";
    case ProxyMode::Iptables: return "iptables";
    case ProxyMode::Nftables: return "nftables";
  }
  return "?";
}

std::string generator_forms() {
  return "expected kube-iptables, kube-nftables, ruleset:PATH or exec:COMMAND, with options as "
         "KIND,mode=iptables:ARGUMENT";
}

GeneratorSpec GeneratorSpec::parse(std::string_view text, const std::string& base) {
  auto colon = text.find(':');
  std::string_view head = text.substr(0, colon);
  std::string_view argument = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
  std::string_view word = head.substr(0, head.find(','));

  const KindInfo* kind = nullptr;
  for (const auto& k : kKinds)
    if (word == k.word) kind = &k;
  if (!kind) reject(text, "unknown generator kind '" + std::string(word) + "'");
  if (kind->takes_argument && argument.empty())
    reject(text, std::string(kind->word) + " needs " + (kind->kind == Kind::Exec ? "a command" : "a path") + " after the colon");
  if (!kind->takes_argument && colon != std::string_view::npos)
    reject(text, std::string(kind->word) + " takes no argument");

  GeneratorSpec spec;
  spec.kind = kind->kind;
  spec.mode = kind->mode;
  spec.base = base;
  for (size_t at = word.size(); at < head.size();) {
    size_t next = head.find(',', at + 1);
    apply_option(spec, *kind, text, head.substr(at + 1, next - at - 1));
    at = next == std::string_view::npos ? head.size() : next;
  }
  spec.argument = std::string(argument);
  if (spec.kind == Kind::Ruleset) {
    fs::path p(spec.argument);
    if (p.is_relative() && !base.empty()) p = fs::path(base) / p;
    spec.argument = p.lexically_normal().string();
  }
  return spec;
}

std::string GeneratorSpec::name() const {
  switch (kind) {
    case Kind::KubeIptables:
    case Kind::KubeNftables: return str();
    case Kind::Ruleset: return "ruleset:" + fs::path(argument).filename().string();
    case Kind::Exec: return "exec:" + argument;
  }
  return "?";
}

std::string GeneratorSpec::str() const {
  const KindInfo& k = info(kind);
  if (!k.takes_argument) return std::string(k.word) + (pre_1_19_port_names ? ",port-names=pre-1.19" : "");
  std::string options = mode == k.mode ? "" : ",mode=" + to_string(mode);
  return k.word + options + ":" + argument;
}

std::vector<GeneratorSpec> builtin_generators() {
  std::vector<GeneratorSpec> out;
  for (const auto& k : kKinds)
    if (!k.takes_argument) out.push_back(GeneratorSpec::parse(k.word, {}));
  return out;
}

}  // namespace harness
