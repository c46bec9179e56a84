#include "harness/cases/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "base/error.h"
#include "base/strings.h"
#include "base/text.h"
#include "harness/cases/case_loader.h"

namespace harness::cases {

namespace {

const std::string kCoreTag = "tag:yaml.org,2002:";

bool is_null(const YAML::Node& n) { return !n.IsDefined() || n.IsNull(); }

bool tagged(const YAML::Node& n, const char* core) { return n.Tag() == kCoreTag + core; }

// Untagged plain (unquoted) scalars, and scalars tagged with one of `core`,
// are the only ones that may be numbers or booleans: `port: "80"` and
// `port: !!str 80` are strings in YAML, and a string is not a port.
bool plain_or(const YAML::Node& n, std::initializer_list<const char*> core) {
  if (!n.IsScalar()) return false;
  if (n.Tag() == "?") return true;
  return std::any_of(core.begin(), core.end(), [&](const char* t) { return tagged(n, t); });
}

// Why a scalar that is text is no number: "the string '80' (quoted, ...)".
std::string described_as_number(const YAML::Node& n) {
  if (n.IsScalar() && n.Tag() == "!")
    return "the quoted string " + describe(n) + " (a quoted value is text in YAML: leave the quotes out)";
  if (n.IsScalar() && n.Tag() != "?") return describe(n) + " tagged " + shown_tag(n.Tag());
  return describe(n);
}

std::string checked_text(const Reader& r, const YAML::Node& n, const std::string& what, bool multiline) {
  bool other_type = tagged(n, "int") || tagged(n, "float") || tagged(n, "bool") || tagged(n, "null");
  if (!n.IsScalar() || other_type || (n.Tag() == "?" && (n.Scalar() == "~" || n.Scalar() == "null")))
    r.fail(n, what + " must be a string, got " + (n.IsScalar() ? described_as_number(n) : describe(n)));
  const std::string& s = n.Scalar();
  if (auto bad = kpath::find_unprintable(s, multiline)) {
    size_t chars = 0;
    for (size_t pos = 0; pos < bad->offset; pos += kpath::decode_utf8(s, pos).length) ++chars;
    r.fail(n, what + " holds " + bad->reason + " (" + bad->shown + ") at character " + std::to_string(chars + 1) +
                  ": names and text in a case file are printable UTF-8" + (multiline ? "" : " on one line"));
  }
  return s;
}

}  // namespace

std::string shown_tag(const std::string& tag) {
  if (tag.starts_with(kCoreTag)) return "!!" + tag.substr(kCoreTag.size());
  return kpath::escaped_prefix(tag, 40);
}

bool known_tag(const std::string& tag) {
  if (tag.empty() || tag == "?" || tag == "!") return true;
  for (const char* t : {"str", "int", "float", "bool", "null", "map", "seq"})
    if (tag == kCoreTag + t) return true;
  return false;
}

void Reader::fail(const YAML::Mark& at, const std::string& message) const {
  throw kpath::Error(file_, first_line_ + std::max(at.line, 0) + 1, std::max(at.column, 0) + 1, message);
}

void Reader::fail(const YAML::Node& at, const std::string& message) const {
  fail(at.IsDefined() ? at.Mark() : YAML::Mark::null_mark(), message);
}

void Reader::fail(const SourceLocation& at, const std::string& message) const {
  throw kpath::Error(at.file.empty() ? file_ : at.file, std::max(at.line, 1), std::max(at.column, 1), message);
}

void Reader::warn(const YAML::Node& at, const std::string& message) const {
  warn(where(at.IsDefined() ? at.Mark() : YAML::Mark::null_mark()), message);
}

void Reader::warn(const SourceLocation& at, const std::string& message) const {
  // A location may be in another file (a manifest the case reads objects from).
  warnings_.push_back({{at.file.empty() ? file_ : at.file, std::max(at.line, 1), std::max(at.column, 1)}, message});
}

SourceLocation Reader::where(const YAML::Mark& m) const {
  return {file_, first_line_ + std::max(m.line, 0) + 1, std::max(m.column, 0) + 1};
}

SourceLocation Reader::where(const YAML::Node& n) const { return where(n.Mark()); }

std::string describe(const YAML::Node& n) {
  if (is_null(n)) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "'" + kpath::escaped_prefix(n.Scalar(), 60) + "'";
}

MapReader::MapReader(const Reader& r, const YAML::Node& node, std::string what, std::vector<std::string> allowed)
    : r_(r), node_(node), what_(std::move(what)) {
  if (!node.IsMap()) r.fail(node, what_ + " must be a map, got " + describe(node));
  for (auto it = node.begin(); it != node.end(); ++it) {
    YAML::Node k = it->first;  // a copy: it-> returns a temporary proxy
    if (!k.IsScalar()) r.fail(k, "keys in " + what_ + " must be strings, got " + describe(k));
    const std::string& key = k.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      r.fail(k, "unknown key '" + key + "' in " + what_ + " (expected one of: " + kpath::join(allowed, ", ") + ")");
    if (values_.count(key))
      r.fail(k, "duplicate key '" + key + "' in " + what_ + " (first at line " +
                    std::to_string(values_[key].first.Mark().line + 1) + ")");
    values_.emplace(key, std::make_pair(k, it->second));
  }
}

YAML::Node MapReader::get(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? YAML::Node(YAML::NodeType::Null) : it->second.second;
}

YAML::Node MapReader::need(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) r_.fail(node_, "missing required key '" + key + "' in " + what_);
  if (is_null(it->second.second)) r_.fail(it->second.first, "'" + key + "' in " + what_ + " needs a value");
  return it->second.second;
}

YAML::Mark MapReader::key_mark(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? node_.Mark() : it->second.first.Mark();
}

YAML::Mark MapReader::mark_of(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return node_.Mark();
  return is_null(it->second.second) ? it->second.first.Mark() : it->second.second.Mark();
}

std::string text(const Reader& r, const YAML::Node& n, const std::string& what) {
  return checked_text(r, n, what, false);
}

std::string free_text(const Reader& r, const YAML::Node& n, const std::string& what) {
  return checked_text(r, n, what, true);
}

long long integer(const Reader& r, const YAML::Node& n, const std::string& what, long long min, long long max) {
  auto bad = [&] {
    r.fail(n, what + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                  described_as_number(n));
  };
  if (!plain_or(n, {"int"})) bad();
  const std::string& s = n.Scalar();
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < min || v > max) bad();
  return v;
}

double number(const Reader& r, const YAML::Node& n, const std::string& what) {
  if (!plain_or(n, {"int", "float"})) r.fail(n, what + " must be a number, got " + described_as_number(n));
  const std::string& s = n.Scalar();
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
    r.fail(n, what + " must be a number, got " + describe(n));
  return v;
}

bool boolean(const Reader& r, const YAML::Node& n, const std::string& what) {
  if (plain_or(n, {"bool"})) {
    std::string s = kpath::ascii_lower(n.Scalar());
    if (s == "true") return true;
    if (s == "false") return false;
  }
  r.fail(n, what + " must be true or false, got " + described_as_number(n));
}

uint16_t port(const Reader& r, const YAML::Node& n, const std::string& what) {
  return static_cast<uint16_t>(integer(r, n, what, 1, 65535));
}

Protocol protocol(const Reader& r, const YAML::Node& n, const std::string& what) {
  if (n.IsScalar())
    if (auto p = parse_protocol(n.Scalar())) return *p;
  r.fail(n, what + " must be TCP, UDP or SCTP, got " + describe(n));
}

Ip address(const Reader& r, const YAML::Node& n, const std::string& what) {
  if (n.IsScalar())
    if (auto ip = Ip::parse(n.Scalar())) return *ip;
  r.fail(n, what + " must be an IPv4 or IPv6 address, got " + describe(n));
}

Cidr cidr(const Reader& r, const YAML::Node& n, const std::string& what) {
  if (n.IsScalar() && n.Scalar().find('/') != std::string::npos)
    if (auto c = Cidr::parse(n.Scalar())) {
      if (c->network() != *c)
        r.fail(n, what + " " + c->str() + " has host bits set (did you mean " + c->network().str() + "?)");
      return *c;
    }
  r.fail(n, what + " must be a CIDR such as 10.32.0.0/12, got " + describe(n));
}

std::string choice(const Reader& r, const YAML::Node& n, const std::string& what,
                   const std::vector<std::string>& allowed) {
  if (n.IsScalar() && std::find(allowed.begin(), allowed.end(), n.Scalar()) != allowed.end()) return n.Scalar();
  r.fail(n, what + " must be one of " + kpath::join(allowed, ", ") + ", got " + describe(n));
}

std::vector<YAML::Node> list(const Reader& r, const YAML::Node& n, const std::string& what) {
  if (!n.IsSequence()) r.fail(n, what + " must be a list, got " + describe(n));
  return {n.begin(), n.end()};
}

std::map<std::string, std::string> string_map(const Reader& r, const YAML::Node& n, const std::string& what,
                                              bool multiline) {
  std::map<std::string, std::string> out;
  if (is_null(n)) return out;
  if (!n.IsMap()) r.fail(n, what + " must be a map of strings, got " + describe(n));
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string k = text(r, it->first, "a key in " + what);
    if (out.count(k)) r.fail(it->first, "duplicate key '" + k + "' in " + what);
    out[k] = checked_text(r, it->second, what + " '" + k + "'", multiline);
  }
  return out;
}

std::string name(const Reader& r, const YAML::Node& n, const std::string& what) {
  std::string s = text(r, n, what);
  if (s.empty()) r.fail(n, what + " is empty");
  if (s.size() > kMaxNameLength)
    r.fail(n, what + " is " + std::to_string(s.size()) + " characters long, above the limit of " +
                  std::to_string(kMaxNameLength) +
                  " for names (namespaces are pinned and rules commented "
                  "by name; see docs/case-format.md, Limits): shorten it");
  auto alnum = [](unsigned char c) { return std::isalnum(c) != 0; };
  if (!std::all_of(s.begin(), s.end(), [&](unsigned char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; }))
    r.fail(n, what + " must be a name of letters, digits, '-', '_' and '.', got " + describe(n));
  if (!alnum(s.front()) || !alnum(s.back()))
    r.fail(n, what + " must start and end with a letter or digit, got " + describe(n));
  return s;
}

}  // namespace harness::cases
