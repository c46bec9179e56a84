#include "harness/cases/case_loader.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "base/error.h"
#include "base/file.h"
#include "harness/cases/document_checks.h"
#include "harness/cases/manifest_files.h"
#include "harness/cases/sections.h"
#include "harness/model/proxy_features.h"
#include "harness/model/ruleset_text.h"

namespace harness {

namespace cases {
namespace {

namespace fs = std::filesystem;

// yaml-cpp ends a quoted scalar at end of input without complaint; a quote
// that never closes is a typo, so look for the closing quote ourselves.
void check_closed_quote(const Reader& r, const YAML::Node& n, const std::string& text) {
  size_t pos = static_cast<size_t>(std::max(n.Mark().pos, 0));
  if (pos >= text.size() || (text[pos] != '"' && text[pos] != '\'')) return;
  char q = text[pos];
  for (size_t i = pos + 1; i < text.size(); ++i) {
    if (q == '"' && text[i] == '\\') ++i;
    else if (q == '\'' && text[i] == '\'' && i + 1 < text.size() && text[i + 1] == '\'') ++i;
    else if (text[i] == q) return;
  }
  r.fail(n, std::string("unclosed ") + (q == '"' ? "double" : "single") + " quote");
}

void check_quotes(const Reader& r, const YAML::Node& n, const std::string& text) {
  if (n.IsScalar() && n.Tag() != "?") check_closed_quote(r, n, text);
  if (n.IsMap())
    for (auto it = n.begin(); it != n.end(); ++it) {
      check_quotes(r, it->first, text);
      check_quotes(r, it->second, text);
    }
  else if (n.IsSequence())
    for (const auto& c : n) check_quotes(r, c, text);
}

YAML::Node load_document(const Reader& r, const std::string& text) {
  check_size(r, text);
  check_encoding(r, text);
  YAML::Node doc;
  try {
    check_shape(r, text);  // before a tree exists: a cyclic or huge one is never built
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    r.fail(e.mark, "YAML syntax error: " + e.msg);
  }
  if (doc.IsNull()) r.fail(YAML::Mark(), "empty case file (expected a map with apiVersion: kpath/v1, kind: Case)");
  check_quotes(r, doc, text);
  return doc;
}

// The dumps a ruleset spec names are read now, so a wrong file is reported at
// the case's line before any topology is built: each node's, for every node.
void check_ruleset(const Reader& r, const YAML::Node& n, const std::string& what, const GeneratorSpec& spec,
                   const Cluster& c) {
  auto fail = [&](const std::string& why) {
    std::string hint;
    if (n.IsScalar() && n.Scalar().find(":/") == std::string::npos && n.Scalar().find("=/") == std::string::npos)
      hint = "; a relative path is relative to the case file's folder, " +
             (spec.base.empty() ? std::string(".") : spec.base);
    r.fail(n, what + ": " + why + hint);
  };
  for (const auto& [node, path] : spec.node_dumps)
    if (!c.node(node)) r.fail(n, what + ": names node '" + node + "', which this case does not have");
  int dumps = 0;
  for (const auto& node : c.nodes) {
    try {
      auto paths = spec.dumps_for(node.name, c.nodes.front().name);
      for (const auto& path : paths) read_ruleset_file(path);
      dumps += !paths.empty();
    } catch (const kpath::Error& e) {
      fail(e.what());
    }
  }
  if (dumps == 0 && !c.nodes.empty())
    fail(spec.argument +
         " is a folder with no dump for any node of this case (it needs files named after the nodes, "
         "such as " +
         c.nodes.front().name + ".iptables-save or " + c.nodes.front().name + ".nft)");
}

// A generator spec; relative paths in it are relative to the case file's folder.
GeneratorSpec generator_spec(const Reader& r, const YAML::Node& n, const std::string& what) {
  std::string g = text(r, n, what);
  GeneratorSpec spec;
  try {
    spec = GeneratorSpec::parse(g, fs::path(r.file()).parent_path().string());
  } catch (const kpath::Error& e) {
    r.fail(n, what + ": " + e.what());
  }
  return spec;
}

// `requires:`: proxy features by the names of the one table (proxy_features.h).
std::vector<std::string> required_features(const Reader& r, const YAML::Node& n) {
  std::vector<std::string> out;
  for (const auto& item : list(r, n, "'requires'")) {
    std::string name = text(r, item, "a 'requires' entry");
    if (!find_proxy_feature(name)) {
      std::string known;
      for (const auto& f : proxy_features()) known += (known.empty() ? "" : ", ") + std::string(f.name);
      r.fail(item, "unknown proxy feature '" + name + "' in 'requires' (known: " + known + ")");
    }
    if (std::find(out.begin(), out.end(), name) != out.end())
      r.fail(item, "'" + name + "' appears twice in 'requires'");
    out.push_back(name);
  }
  return out;
}

Case build(const std::string& source, const std::string& file) {
  Reader r(file);
  YAML::Node root = load_document(r, source);
  MapReader m(r, root, "case",
              {"apiVersion", "kind", "name", "description", "behaviour", "generator", "generators", "requires", "proxy",
               "cluster", "objects", "objectsFrom", "expect"});
  choice(r, m.need("apiVersion"), "'apiVersion'", {"kpath/v1"});
  choice(r, m.need("kind"), "'kind'", {"Case"});
  Case c;
  c.file = file;
  c.name = name(r, m.need("name"), "case 'name'");
  if (m.has("description")) c.description = free_text(r, m.need("description"), "'description'");
  if (m.has("behaviour")) {
    // A catalogue entry (B1 ... B21) or a label of the user's own: both get a
    // row in the behaviour table.
    c.behaviour = name(r, m.need("behaviour"), "'behaviour'");
  }
  if (m.has("generator")) c.generator = generator_spec(r, m.need("generator"), "'generator'");
  if (m.has("generators")) {
    auto specs = list(r, m.need("generators"), "'generators'");
    if (specs.empty())
      r.fail(m.need("generators"),
             "'generators' is empty: name at least one, or leave the key out to run "
             "against the built-in generators");
    for (const auto& g : specs) c.generators.push_back(generator_spec(r, g, "'generators' entry"));
  }
  if (m.has("requires")) c.required_features = required_features(r, m.need("requires"));
  AddressBook book;
  read_cluster(r, m.need("cluster"), c.cluster, book);
  read_proxy(r, m.get("proxy"), c.cluster);
  ManifestFiles manifests(r, m.get("objectsFrom"), c.cluster, book);
  read_objects(r, m.get("objects"), c.cluster, book);
  manifests.read_pending(c.cluster, book);
  derive_slices(c.cluster);
  if (c.generator && c.generator->kind == GeneratorSpec::Kind::Ruleset)
    check_ruleset(r, m.need("generator"), "'generator'", *c.generator, c.cluster);
  auto listed = m.has("generators") ? list(r, m.need("generators"), "'generators'") : std::vector<YAML::Node>{};
  for (size_t i = 0; i < c.generators.size(); ++i)
    if (c.generators[i].kind == GeneratorSpec::Kind::Ruleset)
      check_ruleset(r, listed[i], "'generators' entry", c.generators[i], c.cluster);
  std::vector<GeneratorSpec> named = c.generators;
  if (c.generator) named.push_back(*c.generator);
  c.expect = read_expectations(r, m.need("expect"), c.cluster, named);
  check_listeners(r, c.cluster);
  c.warnings = r.take_warnings();
  for (auto& w : manifests.take_warnings()) c.warnings.push_back(std::move(w));
  // The case file's first, then each manifest's, each in line order.
  std::stable_sort(c.warnings.begin(), c.warnings.end(), [&](const Warning& a, const Warning& b) {
    return std::make_tuple(a.where.file != file, a.where.file, a.where.line, a.where.column) <
           std::make_tuple(b.where.file != file, b.where.file, b.where.line, b.where.column);
  });
  return c;
}

bool is_case_file(const fs::path& p) { return p.extension() == ".yaml" || p.extension() == ".yml"; }

// Folders deeper than this under one PATH are a mistake (or a bind-mount loop).
constexpr int kMaxFolderDepth = 32;

// What a folder holds besides case files, for the message when it holds none.
struct FolderWalk {
  std::vector<std::string> files;
  std::vector<std::string> others;  // "notes.txt (a regular file)"
};

void walk(const fs::path& dir, const fs::path& top, int depth, FolderWalk& out) {
  if (depth > kMaxFolderDepth)
    throw kpath::Error(dir.string(), 0, 0,
                       "folders nest more than " + std::to_string(kMaxFolderDepth) + " deep under " + top.string());
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    // lstat: a link to a folder is not followed, so no link loop is walked.
    bool real_dir = it->symlink_status(ec).type() == fs::file_type::directory;
    if (ec) break;
    kpath::FileInfo info = kpath::inspect_file(p.string());
    if (real_dir) {
      size_t before = out.files.size();
      walk(p, top, depth + 1, out);
      if (out.files.size() == before)
        out.others.push_back(p.lexically_relative(top).string() + "/ (no case file in it)");
    } else if (is_case_file(p) && info.kind != kpath::FileKind::Directory) {
      out.files.push_back(p.string());
    } else {
      out.others.push_back(p.lexically_relative(top).string() + " (" + kpath::describe(info) + ")");
    }
  }
  if (ec) throw kpath::Error(dir.string(), 0, 0, "cannot list the folder: " + ec.message());
}

std::string no_case_files(const std::string& dir, std::vector<std::string> others) {
  if (others.empty()) return "no *.yaml case files in " + dir + ": the folder is empty";
  std::sort(others.begin(), others.end());
  constexpr size_t kShown = 5;
  std::string found;
  for (size_t i = 0; i < others.size() && i < kShown; ++i) found += (i ? ", " : "") + others[i];
  if (others.size() > kShown) found += ", and " + std::to_string(others.size() - kShown) + " more";
  return "no *.yaml case files in " + dir + "; found instead: " + found;
}

// The folder walk of `p`, or nullopt when `p` is not a folder.
std::optional<FolderWalk> walk_folder(const std::string& p) {
  kpath::FileInfo info = kpath::inspect_file(p);
  if (info.kind == kpath::FileKind::Missing) throw kpath::Error(p, 0, 0, "no such case file or folder");
  if (info.kind != kpath::FileKind::Directory) return std::nullopt;
  FolderWalk found;
  walk(p, p, 0, found);
  return found;
}

}  // namespace
}  // namespace cases

Case parse_case(const std::string& text, const std::string& file_name) {
  try {
    return cases::build(text, file_name);
  } catch (const YAML::Exception& e) {  // a yaml-cpp surprise still names the place
    throw kpath::Error(file_name, std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1, "YAML error: " + e.msg);
  }
}

Case load_case(const std::string& path) {
  return parse_case(kpath::read_regular_file(path, kMaxCaseFileBytes, "case file"), path);
}

std::vector<std::string> find_case_files(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    if (auto found = cases::walk_folder(p)) out.insert(out.end(), found->files.begin(), found->files.end());
    else out.push_back(p);  // a file, or something load_case reports by name (a FIFO, a link loop, ...)
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string why_no_case_files(const std::vector<std::string>& paths) {
  std::string why;
  for (const auto& p : paths)
    if (auto found = cases::walk_folder(p); found && found->files.empty())
      why += (why.empty() ? "" : "; ") + cases::no_case_files(p, found->others);
  return why;
}

void reject_warnings(const Case& c) {
  if (c.warnings.empty()) return;
  const Warning& w = c.warnings.front();
  std::string more = c.warnings.size() > 1 ? " (and " + std::to_string(c.warnings.size() - 1) + " more)" : "";
  throw kpath::Error(w.where.file, w.where.line, w.where.column,
                     w.message + " [a warning, an error under --strict]" + more);
}

}  // namespace harness
