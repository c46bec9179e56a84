#include "harness/cases/case_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

#include "harness/cases/sections.h"
#include "base/error.h"

namespace harness {

namespace cases {
namespace {

namespace fs = std::filesystem;

// Aliases let a tiny file expand into a huge tree; cap the tree we walk.
constexpr long kMaxNodes = 2'000'000;

void count_nodes(const Reader& r, const YAML::Node& n, long& budget) {
  if (--budget < 0)
    r.fail(n, "case file too large (more than " + std::to_string(kMaxNodes) +
                  " YAML nodes, counting aliases)");
  if (n.IsMap())
    for (auto it = n.begin(); it != n.end(); ++it) {
      count_nodes(r, it->first, budget);
      count_nodes(r, it->second, budget);
    }
  else if (n.IsSequence())
    for (const auto& c : n) count_nodes(r, c, budget);
}

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

// Notes where the second document starts, if there is one; builds nothing.
class DocumentCounter : public YAML::EventHandler {
 public:
  int documents = 0;
  YAML::Mark second;
  void OnDocumentStart(const YAML::Mark& m) override {
    if (++documents == 2) second = m;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// A case file is one document. Not YAML::LoadAll: in yaml-cpp 0.7 it loops
// forever on some inputs (a stray ',' at top level), so count at most two.
void check_single_document(const Reader& r, const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  if (counter.documents > 1)
    r.fail(counter.second, "a case file holds one YAML document, but a second one starts here (a --- line, or text after the first document ends)");
}

YAML::Node load_document(const Reader& r, const std::string& text) {
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
    check_single_document(r, text);
  } catch (const YAML::Exception& e) {
    r.fail(e.mark, "YAML syntax error: " + e.msg);
  }
  if (doc.IsNull())
    r.fail(YAML::Mark(), "empty case file (expected a map with apiVersion: kpath/v1, kind: Case)");
  long budget = kMaxNodes;
  count_nodes(r, doc, budget);
  check_quotes(r, doc, text);
  return doc;
}

// A generator spec; relative paths in it are relative to the case file's folder.
GeneratorSpec generator_spec(const Reader& r, const YAML::Node& n, const std::string& what) {
  std::string g = text(r, n, what);
  try {
    return GeneratorSpec::parse(g, fs::path(r.file()).parent_path().string());
  } catch (const kpath::Error& e) {
    r.fail(n, what + ": " + e.what());
  }
}

Case build(const std::string& source, const std::string& file) {
  Reader r(file);
  YAML::Node root = load_document(r, source);
  MapReader m(r, root, "case", {"apiVersion", "kind", "name", "description", "behaviour", "generator",
                                "generators", "proxy", "cluster", "objects", "expect"});
  choice(r, m.need("apiVersion"), "'apiVersion'", {"kpath/v1"});
  choice(r, m.need("kind"), "'kind'", {"Case"});
  Case c;
  c.file = file;
  c.name = name(r, m.need("name"), "case 'name'");
  if (m.has("description")) c.description = text(r, m.need("description"), "'description'");
  if (m.has("behaviour")) {
    c.behaviour = text(r, m.need("behaviour"), "'behaviour'");
    if (c.behaviour.size() < 2 || c.behaviour[0] != 'B' ||
        c.behaviour.find_first_not_of("0123456789", 1) != std::string::npos)
      r.fail(m.need("behaviour"), "'behaviour' must name a catalogue entry such as B1, got '" + c.behaviour + "'");
  }
  if (m.has("generator")) c.generator = generator_spec(r, m.need("generator"), "'generator'");
  if (m.has("generators"))
    for (const auto& g : list(r, m.need("generators"), "'generators'"))
      c.generators.push_back(generator_spec(r, g, "'generators' entry"));
  AddressBook book;
  read_cluster(r, m.need("cluster"), c.cluster, book);
  read_proxy(r, m.get("proxy"), c.cluster);
  read_objects(r, m.get("objects"), c.cluster, book);
  derive_slices(c.cluster);
  std::vector<GeneratorSpec> named = c.generators;
  if (c.generator) named.push_back(*c.generator);
  c.expect = read_expectations(r, m.need("expect"), c.cluster, named);
  return c;
}

bool is_case_file(const fs::path& p) {
  return p.extension() == ".yaml" || p.extension() == ".yml";
}

}  // namespace
}  // namespace cases

Case parse_case(const std::string& text, const std::string& file_name) {
  try {
    return cases::build(text, file_name);
  } catch (const YAML::Exception& e) {  // a yaml-cpp surprise still names the place
    throw kpath::Error(file_name, std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1,
                       "YAML error: " + e.msg);
  }
}

Case load_case(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw kpath::Error("cannot read case file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_case(text.str(), path);
}

std::vector<std::string> find_case_files(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file() && cases::is_case_file(it->path())) out.push_back(it->path().string());
      if (ec) throw kpath::Error("cannot list " + p + ": " + ec.message());
    } else if (fs::is_regular_file(p, ec)) {
      out.push_back(p);
    } else {
      throw kpath::Error("no such case file or folder: " + p);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace harness
