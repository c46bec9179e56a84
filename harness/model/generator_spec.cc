#include "harness/model/generator_spec.h"

#include <algorithm>
#include <filesystem>

#include "base/error.h"
#include "harness/model/proxy_features.h"

namespace harness {

namespace fs = std::filesystem;

namespace {

struct KindInfo {
  const char* word;
  GeneratorSpec::Kind kind;
  ProxyMode mode;  // what the kind implies
  bool takes_argument;
};

// The one place the generator kinds are spelled.
constexpr KindInfo kKinds[] = {
    {"kube-iptables", GeneratorSpec::Kind::KubeIptables, ProxyMode::Iptables, false},
    {"kube-nftables", GeneratorSpec::Kind::KubeNftables, ProxyMode::Nftables, false},
    {"ruleset", GeneratorSpec::Kind::Ruleset, ProxyMode::None, true},
    {"exec", GeneratorSpec::Kind::Exec, ProxyMode::None, true},
    {"proxy", GeneratorSpec::Kind::Proxy, ProxyMode::None, true},
};

const KindInfo& info(GeneratorSpec::Kind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k;
  throw kpath::Error("unknown generator kind");
}

[[noreturn]] void reject(std::string_view text, const std::string& why) {
  throw kpath::Error("generator '" + std::string(text) + "': " + why + " (" + generator_forms() + ")");
}

// "NODE=PATH,NODE=PATH": an '=' before any '/' (a path may hold '=' later).
bool is_node_map(std::string_view argument) {
  size_t eq = argument.find('=');
  return eq != std::string_view::npos && argument.substr(0, eq).find('/') == std::string_view::npos;
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
    if (!kind.takes_argument)
      reject(text, std::string(kind.word) + " implements " + to_string(kind.mode) + " mode already");
    spec.mode = parse_mode(text, value);
  } else if (key == "version" && (spec.kind == GeneratorSpec::Kind::Exec || spec.kind == GeneratorSpec::Kind::Proxy)) {
    if (!parse_version(value)) reject(text, "version must be MAJOR.MINOR[.PATCH], got '" + std::string(value) + "'");
    spec.version = std::string(value);
  } else if (key == "port-names" && spec.kind == GeneratorSpec::Kind::KubeIptables) {
    if (value != "pre-1.19" && value != "current")
      reject(text, "port-names must be current or pre-1.19, got '" + std::string(value) + "'");
    spec.pre_1_19_port_names = value == "pre-1.19";
  } else {
    reject(text, "unknown option '" + std::string(option) +
                     "' (options: mode=iptables|nftables|none; exec, proxy: version=1.20.2; "
                     "kube-iptables: port-names=pre-1.19)");
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
  return "expected kube-iptables, kube-nftables, ruleset:PATH, exec:COMMAND or proxy:COMMAND, with options as "
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
    reject(text, std::string(kind->word) + " needs " + (kind->kind == Kind::Ruleset ? "a path" : "a command") +
                     " after the colon");
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
  if (spec.kind != Kind::Ruleset) return spec;
  auto resolve_one = [&](std::string_view path) {
    fs::path p(path);
    if (p.is_relative() && !base.empty()) p = fs::path(base) / p;
    return p.lexically_normal().string();
  };
  // V4PATH+V6PATH: each family's dump resolved on its own.
  auto resolve = [&](std::string_view paths) {
    std::string out;
    for (size_t at = 0; at <= paths.size();) {
      size_t plus = std::min(paths.find('+', at), paths.size());
      if (plus == at) reject(text, "a dump path is empty in '" + std::string(paths) + "' (V4PATH+V6PATH)");
      out += (out.empty() ? "" : "+") + resolve_one(paths.substr(at, plus - at));
      at = plus + 1;
    }
    return out;
  };
  if (is_node_map(argument)) {
    for (size_t at = 0; at <= argument.size();) {
      size_t comma = std::min(argument.find(',', at), argument.size());
      std::string_view pair = argument.substr(at, comma - at);
      size_t eq = pair.find('=');
      if (eq == 0 || eq + 1 >= pair.size())
        reject(text, "a per-node dump is NODE=PATH, got '" + std::string(pair) + "'");
      spec.node_dumps.emplace_back(std::string(pair.substr(0, eq)), resolve(pair.substr(eq + 1)));
      at = comma + 1;
    }
    std::string joined;
    for (const auto& [node, path] : spec.node_dumps) joined += (joined.empty() ? "" : ",") + node + "=" + path;
    spec.argument = joined;
    return spec;
  }
  spec.argument = resolve(argument);
  return spec;
}

namespace {

// "a+b" -> {"a", "b"}: the family dumps of one node.
std::vector<std::string> family_dumps(const std::string& paths) {
  std::vector<std::string> out;
  for (size_t at = 0; at <= paths.size();) {
    size_t plus = std::min(paths.find('+', at), paths.size());
    if (plus > at) out.push_back(paths.substr(at, plus - at));
    at = plus + 1;
  }
  return out;
}

// An ip6tables-save dump by its name: it may sit beside a node's IPv4 dump.
bool ip6tables_name(const fs::path& p) { return p.filename().string().find("ip6tables") != std::string::npos; }

}  // namespace

std::vector<std::string> GeneratorSpec::dumps_for(const std::string& node, const std::string& first_node) const {
  if (!node_dumps.empty()) {
    for (const auto& [n, paths] : node_dumps)
      if (n == node) return family_dumps(paths);
    return {};
  }
  std::error_code ec;
  if (!fs::is_directory(argument, ec)) return node == first_node ? family_dumps(argument) : std::vector<std::string>{};
  // FOLDER/NODE or FOLDER/NODE.EXT (node-a.iptables-save, node-a.nft), and
  // NODE.ip6tables-save beside it.
  std::string found, found6;
  fs::directory_iterator it(argument, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.filename().string() != node && p.stem().string() != node) continue;
    std::string& slot = ip6tables_name(p) ? found6 : found;
    if (!slot.empty())
      throw kpath::Error("two dumps for node " + node + " in " + argument + ": " + fs::path(slot).filename().string() +
                         " and " + p.filename().string());
    slot = p.string();
  }
  if (ec) throw kpath::Error("cannot list " + argument + ": " + ec.message());
  std::vector<std::string> out;
  for (const auto& f : {found, found6})
    if (!f.empty()) out.push_back(f);
  return out;
}

std::string GeneratorSpec::name() const {
  switch (kind) {
    case Kind::KubeIptables:
    case Kind::KubeNftables: return str();
    case Kind::Ruleset: {
      // Each dump by its file name; a folder (FOLDER/NODE.*) by its own name with a slash.
      auto names = [](const std::string& paths) {
        std::string out;
        for (const auto& path : family_dumps(paths)) {
          fs::path p(path);
          out += (out.empty() ? "" : "+") +
                 (p.has_filename() ? p.filename().string() : p.parent_path().filename().string() + "/");
        }
        return out;
      };
      if (node_dumps.empty()) return "ruleset:" + names(argument);
      std::string out = "ruleset:";
      for (const auto& [node, path] : node_dumps) out += (out.size() > 8 ? "," : "") + node + "=" + names(path);
      return out;
    }
    case Kind::Exec: return "exec:" + argument;
    case Kind::Proxy: return "proxy:" + argument;
  }
  return "?";
}

std::string GeneratorSpec::str() const {
  const KindInfo& k = info(kind);
  if (!k.takes_argument) return std::string(k.word) + (pre_1_19_port_names ? ",port-names=pre-1.19" : "");
  std::string options = mode == k.mode ? "" : ",mode=" + to_string(mode);
  if (!version.empty()) options += ",version=" + version;
  return k.word + options + ":" + argument;
}

std::vector<GeneratorSpec> builtin_generators() {
  std::vector<GeneratorSpec> out;
  for (const auto& k : kKinds)
    if (!k.takes_argument) out.push_back(GeneratorSpec::parse(k.word, {}));
  return out;
}

}  // namespace harness
