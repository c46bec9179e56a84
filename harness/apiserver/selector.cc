#include "harness/apiserver/selector.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/error.h"

namespace harness::apiserver {

namespace {

// Label selector tokens, as apimachinery's lexer splits them.
enum class Tok { End, Ident, Not, Eq, DoubleEq, NotEq, In, NotIn, Gt, Lt, Open, Close, Comma };

struct Token {
  Tok kind = Tok::End;
  std::string text;
};

bool special(char c) { return std::string_view("!=,()<>").find(c) != std::string_view::npos; }

class Lexer {
 public:
  explicit Lexer(const std::string& s) : s_(s) {}

  Token next() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ == s_.size()) return {Tok::End, ""};
    char c = s_[pos_];
    if (special(c)) return symbol();
    size_t start = pos_;
    while (pos_ < s_.size() && !special(s_[pos_]) && !std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    std::string word = s_.substr(start, pos_ - start);
    if (word == "in") return {Tok::In, word};
    if (word == "notin") return {Tok::NotIn, word};
    return {Tok::Ident, word};
  }

  Token peek() {
    size_t saved = pos_;
    Token t = next();
    pos_ = saved;
    return t;
  }

 private:
  Token symbol() {
    auto two = s_.substr(pos_, 2);
    if (two == "==") return pos_ += 2, Token{Tok::DoubleEq, two};
    if (two == "!=") return pos_ += 2, Token{Tok::NotEq, two};
    char c = s_[pos_++];
    switch (c) {
      case '!': return {Tok::Not, "!"};
      case '=': return {Tok::Eq, "="};
      case ',': return {Tok::Comma, ","};
      case '(': return {Tok::Open, "("};
      case ')': return {Tok::Close, ")"};
      case '>': return {Tok::Gt, ">"};
      default: return {Tok::Lt, "<"};
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
};

[[noreturn]] void bad(const std::string& selector, const std::string& why) {
  throw kpath::Error("unable to parse requirement: " + why + " in selector \"" + selector + "\"");
}

bool valid_label_chars(const std::string& s, bool allow_slash) {
  return std::all_of(s.begin(), s.end(), [&](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || (allow_slash && c == '/');
  });
}

void check_key(const std::string& selector, const std::string& key) {
  if (key.empty() || !valid_label_chars(key, true) || std::count(key.begin(), key.end(), '/') > 1)
    bad(selector, "invalid label key \"" + key + "\"");
}

void check_value(const std::string& selector, const std::string& value) {
  if (value.size() > 63 || !valid_label_chars(value, false)) bad(selector, "invalid label value \"" + value + "\"");
}

bool is_integer(const std::string& s) {
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// "key=" with nothing after it selects the empty value.
std::string read_value(Lexer& lex, const std::string& selector) {
  Token t = lex.peek();
  if (t.kind == Tok::End || t.kind == Tok::Comma) return "";
  t = lex.next();
  if (t.kind != Tok::Ident) bad(selector, "found '" + t.text + "', expected a value");
  check_value(selector, t.text);
  return t.text;
}

std::vector<std::string> read_set(Lexer& lex, const std::string& selector) {
  if (lex.next().kind != Tok::Open) bad(selector, "expected '('");
  std::vector<std::string> values;
  for (;;) {
    Token t = lex.next();
    if (t.kind != Tok::Ident) bad(selector, "found '" + t.text + "', expected a value in the set");
    check_value(selector, t.text);
    values.push_back(t.text);
    t = lex.next();
    if (t.kind == Tok::Close) return values;
    if (t.kind != Tok::Comma) bad(selector, "found '" + t.text + "', expected ',' or ')'");
  }
}

LabelSelector::Requirement read_requirement(Lexer& lex, const std::string& selector) {
  using Op = LabelSelector::Op;
  LabelSelector::Requirement r;
  Token t = lex.next();
  bool negated = t.kind == Tok::Not;
  if (negated) t = lex.next();
  if (t.kind != Tok::Ident) bad(selector, "found '" + t.text + "', expected a key");
  check_key(selector, t.text);
  r.key = t.text;
  Token op = lex.peek();
  if (negated || op.kind == Tok::End || op.kind == Tok::Comma) {
    r.op = negated ? Op::DoesNotExist : Op::Exists;
    return r;
  }
  lex.next();
  switch (op.kind) {
    case Tok::Eq:
    case Tok::DoubleEq:
      r.op = Op::Equals;
      r.values = {read_value(lex, selector)};
      break;
    case Tok::NotEq:
      r.op = Op::NotEquals;
      r.values = {read_value(lex, selector)};
      break;
    case Tok::In:
      r.op = Op::In;
      r.values = read_set(lex, selector);
      break;
    case Tok::NotIn:
      r.op = Op::NotIn;
      r.values = read_set(lex, selector);
      break;
    case Tok::Gt:
    case Tok::Lt:
      r.op = op.kind == Tok::Gt ? Op::GreaterThan : Op::LessThan;
      r.values = {read_value(lex, selector)};
      if (!is_integer(r.values[0])) bad(selector, "for 'Gt', 'Lt' operators, the value must be an integer");
      break;
    default: bad(selector, "found '" + op.text + "', expected an operator");
  }
  return r;
}

bool requirement_matches(const LabelSelector::Requirement& r, const Labels& labels) {
  using Op = LabelSelector::Op;
  auto it = labels.find(r.key);
  bool has = it != labels.end();
  auto in_values = [&] { return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end(); };
  switch (r.op) {
    case Op::Exists: return has;
    case Op::DoesNotExist: return !has;
    case Op::Equals:
    case Op::In: return in_values();
    case Op::NotEquals:
    case Op::NotIn: return !in_values();
    case Op::GreaterThan:
    case Op::LessThan: {
      if (!has || !is_integer(it->second)) return false;
      long long have = std::stoll(it->second), want = std::stoll(r.values[0]);
      return r.op == Op::GreaterThan ? have > want : have < want;
    }
  }
  return false;
}

// Splits at unescaped `sep`, keeping escapes (fields.ParseSelector's splitTerms).
std::vector<std::string> split_unescaped(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back() += s.substr(i, 2);
      ++i;
    } else if (s[i] == sep) {
      out.emplace_back();
    } else {
      out.back() += s[i];
    }
  }
  return out;
}

std::string unescape_field_value(const std::string& selector, const std::string& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      if (v[i] == '=' || v[i] == ',')
        throw kpath::Error("invalid field selector \"" + selector + "\": unescaped " + v[i]);
      out += v[i];
      continue;
    }
    if (i + 1 == v.size() || std::string_view("\\,=").find(v[i + 1]) == std::string_view::npos)
      throw kpath::Error("invalid field selector \"" + selector + "\": invalid escape sequence");
    out += v[++i];
  }
  return out;
}

// One "field=value", "field==value" or "field!=value" term.
FieldSelector::Requirement read_field_term(const std::string& selector, const std::string& term) {
  size_t pos = 0;
  while (pos < term.size() && term[pos] != '=' && term[pos] != '!') pos += term[pos] == '\\' ? 2 : 1;
  if (pos >= term.size())
    throw kpath::Error("invalid field selector \"" + selector + "\": \"" + term + "\" has no operator");
  FieldSelector::Requirement r;
  r.field = term.substr(0, pos);
  size_t op_len = 1;
  if (term.compare(pos, 2, "!=") == 0) {
    r.equals = false;
    op_len = 2;
  } else if (term.compare(pos, 2, "==") == 0) {
    op_len = 2;
  } else if (term[pos] != '=') {
    throw kpath::Error("invalid field selector \"" + selector + "\": \"" + term + "\" has no operator");
  }
  r.value = unescape_field_value(selector, term.substr(pos + op_len));
  return r;
}

}  // namespace

LabelSelector LabelSelector::parse(const std::string& text) {
  LabelSelector sel;
  Lexer lex(text);
  if (lex.peek().kind == Tok::End) return sel;
  for (;;) {
    sel.requirements_.push_back(read_requirement(lex, text));
    Token t = lex.next();
    if (t.kind == Tok::End) return sel;
    if (t.kind != Tok::Comma) bad(text, "found '" + t.text + "', expected ','");
  }
}

bool LabelSelector::matches(const Labels& labels) const {
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const Requirement& r) { return requirement_matches(r, labels); });
}

FieldSelector FieldSelector::parse(const std::string& text, const std::vector<std::string>& supported) {
  FieldSelector sel;
  if (text.empty()) return sel;
  for (const auto& term : split_unescaped(text, ',')) {
    auto r = read_field_term(text, term);
    if (std::find(supported.begin(), supported.end(), r.field) == supported.end())
      throw kpath::Error("field label not supported: " + r.field);
    sel.requirements_.push_back(std::move(r));
  }
  return sel;
}

bool FieldSelector::matches(const std::map<std::string, std::string>& fields) const {
  return std::all_of(requirements_.begin(), requirements_.end(), [&](const Requirement& r) {
    auto it = fields.find(r.field);
    std::string have = it == fields.end() ? "" : it->second;
    return (have == r.value) == r.equals;
  });
}

}  // namespace harness::apiserver
