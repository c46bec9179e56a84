// Typed, position-aware reading of yaml-cpp nodes for the case loader.
// Every failure throws kpath::Error with the file and 1-based line/column.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "harness/model/model.h"

namespace harness::cases {

// The file being read; turns yaml-cpp marks into kpath::Error positions and
// collects the warnings (docs/case-format.md, "Warnings").
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  // Text that starts at 0-based line `first_line` of `file` (one document of
  // a multi-document manifest), so positions still name the file's lines.
  Reader(std::string file, int first_line) : file_(std::move(file)), first_line_(first_line) {}
  const std::string& file() const { return file_; }
  [[noreturn]] void fail(const YAML::Mark& at, const std::string& message) const;
  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const;
  [[noreturn]] void fail(const SourceLocation& at, const std::string& message) const;
  void warn(const YAML::Node& at, const std::string& message) const;
  void warn(const SourceLocation& at, const std::string& message) const;
  SourceLocation where(const YAML::Node& n) const;
  SourceLocation where(const YAML::Mark& m) const;
  std::vector<Warning> take_warnings() { return std::move(warnings_); }

 private:
  std::string file_;
  int first_line_ = 0;
  // Warnings do not change what is read, so the readers, which take the
  // Reader as const, may add them.
  mutable std::vector<Warning> warnings_;
};

// YAML tags kpath reads: none, !!str, !!int, !!float, !!bool, !!null, !!map
// and !!seq. `!!int 50` is 50; `!!str 50` and "50" are strings.
bool known_tag(const std::string& tag);
// A tag as a case file writes it: "!!str" for yaml-cpp's "tag:yaml.org,2002:str".
std::string shown_tag(const std::string& tag);

// "a list", "a map", "'text'", "nothing" — what the file actually holds.
std::string describe(const YAML::Node& n);

// One YAML mapping with a closed set of keys: unknown and duplicate keys are
// errors at the key, missing required keys are errors at the mapping.
class MapReader {
 public:
  MapReader(const Reader& r, const YAML::Node& node, std::string what, std::vector<std::string> allowed);
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  YAML::Node get(const std::string& key) const;   // undefined-free: Null node when absent
  YAML::Node need(const std::string& key) const;  // error when absent
  YAML::Mark key_mark(const std::string& key) const;
  const YAML::Node& node() const { return node_; }
  const std::string& what() const { return what_; }
  // A field's value, or its key when the value is empty (an empty value's mark
  // points at the next line).
  YAML::Mark mark_of(const std::string& key) const;

 private:
  const Reader& r_;
  YAML::Node node_;
  std::string what_;
  std::map<std::string, std::pair<YAML::Node, YAML::Node>> values_;  // key -> (key node, value)
};

// Scalar readers. `what` names the field in messages ("'port'").
// One line of printable UTF-8 (docs/case-format.md, "Text").
std::string text(const Reader& r, const YAML::Node& n, const std::string& what);
// The same, but tabs and line breaks are allowed (description, annotations).
std::string free_text(const Reader& r, const YAML::Node& n, const std::string& what);
long long integer(const Reader& r, const YAML::Node& n, const std::string& what, long long min, long long max);
double number(const Reader& r, const YAML::Node& n, const std::string& what);
bool boolean(const Reader& r, const YAML::Node& n, const std::string& what);
uint16_t port(const Reader& r, const YAML::Node& n, const std::string& what);
Protocol protocol(const Reader& r, const YAML::Node& n, const std::string& what);
Ip address(const Reader& r, const YAML::Node& n, const std::string& what);
Cidr cidr(const Reader& r, const YAML::Node& n, const std::string& what);
// One of a fixed set of spellings, e.g. {"Cluster", "Local"}.
std::string choice(const Reader& r, const YAML::Node& n, const std::string& what,
                   const std::vector<std::string>& allowed);
std::vector<YAML::Node> list(const Reader& r, const YAML::Node& n, const std::string& what);
// Keys are text(); values are text(), or free_text() when `multiline`.
std::map<std::string, std::string> string_map(const Reader& r, const YAML::Node& n, const std::string& what,
                                              bool multiline = false);
// A name usable in from/to references, namespace pins and reports: 1 to
// kMaxNameLength letters, digits, '-', '_' and '.', starting and ending with a
// letter or digit.
std::string name(const Reader& r, const YAML::Node& n, const std::string& what);

}  // namespace harness::cases
