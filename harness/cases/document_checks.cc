#include "harness/cases/document_checks.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "base/error.h"
#include "base/file.h"
#include "base/text.h"
#include "harness/cases/case_loader.h"

namespace harness::cases {

namespace {

// YAML 1.2's printable set (c-printable).
bool yaml_printable(char32_t c) {
  return c == 0x09 || c == 0x0A || c == 0x0D || (c >= 0x20 && c <= 0x7E) || c == 0x85 || (c >= 0xA0 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000;
}

std::string encoding_problem(std::string_view text, size_t pos, const kpath::Utf8Char& c) {
  if (!c.code_point)
    return "byte " + kpath::escape_unprintable(text.substr(pos, 1)) +
           " is not UTF-8: a case file is UTF-8 text (convert it, for example with iconv -t UTF-8)";
  if (*c.code_point == 0) return "NUL byte: a case file is text";
  if (*c.code_point == 0xFFFE || *c.code_point == 0xFFFF)
    return kpath::escape_unprintable(text.substr(pos, c.length)) + " is not a character (YAML does not allow it)";
  return "control character " + kpath::escape_unprintable(text.substr(pos, c.length)) +
         ": YAML allows only tab, line feed and carriage return";
}

std::string limits_note() { return " (a loader limit, see docs/case-format.md)"; }

// Walks the parser's events without building a tree: a tree built from an
// alias that contains itself is a cycle, and counting it recursively never ends.
class ShapeCheck : public YAML::EventHandler {
 public:
  ShapeCheck(const Reader& r, long max_nodes) : r_(r), max_nodes_(max_nodes) {}

  void OnDocumentStart(const YAML::Mark& m) override {
    if (++documents_ == 2)
      r_.fail(m,
              "a case file holds one YAML document, but a second one starts here (a --- line, or text after "
              "the first document ends)");
  }
  void OnDocumentEnd() override {}
  void OnAnchor(const YAML::Mark&, const std::string& name) override { anchor_name_ = name; }
  void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override { leaf(m, anchor); }
  void OnScalar(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor, const std::string&) override {
    check_tag(m, tag);
    leaf(m, anchor);
  }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) override;
  void OnSequenceStart(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(m, tag, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(m, tag, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  // A map or list being read: how many nodes it holds so far (itself
  // included, aliases expanded) and how deep the aliases in it nest.
  struct Frame {
    YAML::anchor_t anchor = 0;
    long nodes = 1;
    int alias_depth = 0;
  };
  struct Anchor {
    std::string name;
    long nodes = 1;
    int alias_depth = 0;
    bool open = false;  // still being read: an alias to it now is a cycle
  };

  void check_tag(const YAML::Mark& m, const std::string& tag) const {
    if (!known_tag(tag))
      r_.fail(m, "unsupported YAML tag '" + shown_tag(tag) +
                     "' (kpath reads untagged values and !!str, !!int, !!float, !!bool, !!null, !!map, !!seq)");
  }

  void count(const YAML::Mark& m, long nodes, int alias_depth) {
    total_ += nodes;
    if (total_ > max_nodes_)
      r_.fail(m, "the document grows past " + std::to_string(max_nodes_) +
                     " YAML nodes here, counting each use of an alias as a copy of what it names" + limits_note());
    if (frames_.empty()) return;
    frames_.back().nodes += nodes;
    frames_.back().alias_depth = std::max(frames_.back().alias_depth, alias_depth);
  }

  void name_anchor(YAML::anchor_t anchor, long nodes, int alias_depth, bool open) {
    if (anchor == 0) return;
    Anchor& a = anchors_[anchor];
    if (!anchor_name_.empty()) a.name = std::exchange(anchor_name_, {});
    a.nodes = nodes;
    a.alias_depth = alias_depth;
    a.open = open;
  }

  void leaf(const YAML::Mark& m, YAML::anchor_t anchor) {
    name_anchor(anchor, 1, 0, false);
    count(m, 1, 0);
  }

  void open(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor) {
    check_tag(m, tag);
    if (static_cast<int>(frames_.size()) >= kMaxYamlNesting)
      r_.fail(m, "maps and lists nest more than " + std::to_string(kMaxYamlNesting) + " deep here" + limits_note());
    count(m, 1, 0);  // the collection itself, in its parent
    name_anchor(anchor, 1, 0, true);
    frames_.push_back({anchor, 1, 0});
  }

  void close() {
    Frame f = frames_.back();
    frames_.pop_back();
    if (f.anchor) name_anchor(f.anchor, f.nodes, f.alias_depth, false);
    if (frames_.empty()) return;
    // The collection itself was counted when it opened; add what it holds.
    frames_.back().nodes += f.nodes - 1;
    frames_.back().alias_depth = std::max(frames_.back().alias_depth, f.alias_depth);
  }

  const Reader& r_;
  long max_nodes_;
  int documents_ = 0;
  long total_ = 0;
  std::string anchor_name_;  // from OnAnchor, for the node event that follows
  std::vector<Frame> frames_;
  std::map<YAML::anchor_t, Anchor> anchors_;
};

void ShapeCheck::OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) {
  const Anchor& a = anchors_[anchor];
  if (a.open)
    r_.fail(m, "alias *" + a.name + " is inside the node &" + a.name +
                   " it names, which would make that node contain itself forever: refer to it only after it ends");
  int depth = a.alias_depth + 1;
  if (depth > kMaxAliasDepth)
    r_.fail(m, "alias *" + a.name + " names a node holding aliases " + std::to_string(depth) +
                   " deep (anchors whose aliases name anchors...); at most " + std::to_string(kMaxAliasDepth) +
                   limits_note());
  count(m, a.nodes, depth);
}

}  // namespace

void check_size(const Reader& r, const std::string& text) {
  if (text.size() > kMaxCaseFileBytes)
    throw kpath::Error(r.file(), 0, 0,
                       "is " + kpath::human_size(text.size()) + ", above the " + kpath::human_size(kMaxCaseFileBytes) +
                           " limit for a case file");
}

void check_encoding(const Reader& r, const std::string& text) {
  YAML::Mark at;
  at.line = 0;
  at.column = 0;
  for (size_t pos = 0; pos < text.size();) {
    kpath::Utf8Char c = kpath::decode_utf8(text, pos);
    if (!c.code_point || !yaml_printable(*c.code_point)) r.fail(at, encoding_problem(text, pos, c));
    if (text[pos] == '\n') {
      ++at.line;
      at.column = 0;
    } else {
      at.column += static_cast<int>(c.length);  // yaml-cpp counts columns in bytes too
    }
    pos += c.length;
  }
}

void check_shape(const Reader& r, const std::string& text) { check_shape(r, text, kMaxYamlNodes); }

void check_shape(const Reader& r, const std::string& text, long max_nodes) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  ShapeCheck shape(r, max_nodes);
  // At most two documents: the second is an error anyway, and yaml-cpp 0.7
  // loops forever on some inputs when asked for more (a stray ',' at top level).
  for (int i = 0; i < 2 && parser.HandleNextDocument(shape); ++i) {
  }
}

}  // namespace harness::cases
