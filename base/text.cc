#include "base/text.h"

#include <cstdio>

namespace kpath {

namespace {

bool continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// U+FDD0..U+FDEF and the last two code points of every plane.
bool noncharacter(char32_t c) { return (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE; }

// Marks that reorder text on the screen (the "Trojan Source" characters).
bool bidi_control(char32_t c) {
  return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

std::string hex(unsigned value, const char* format) {
  char buf[16];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::string shown(std::string_view s, size_t pos, const Utf8Char& c) {
  if (!c.code_point) return hex(static_cast<unsigned char>(s[pos]), "\\x%02X");
  return hex(static_cast<unsigned>(*c.code_point), "\\u{%X}");
}

}  // namespace

Utf8Char decode_utf8(std::string_view s, size_t pos) {
  auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return {b0, 1};
  size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
  if (len == 0 || b0 > 0xF4 || pos + len > s.size()) return {};
  char32_t c = b0 & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    auto b = static_cast<unsigned char>(s[pos + i]);
    if (!continuation(b)) return {};
    c = (c << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMin[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return {};  // overlong, too big, surrogate
  return {c, len};
}

std::string unprintable_reason(const Utf8Char& u, bool multiline) {
  if (!u.code_point) return "a byte that is not UTF-8";
  char32_t c = *u.code_point;
  if (multiline && (c == '\t' || c == '\n')) return "";
  if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029) return "a control character";
  if (noncharacter(c)) return "a noncharacter";
  if (bidi_control(c)) return "a bidirectional control";
  return "";
}

std::optional<BadChar> find_unprintable(std::string_view s, bool multiline) {
  for (size_t pos = 0; pos < s.size();) {
    Utf8Char c = decode_utf8(s, pos);
    std::string why = unprintable_reason(c, multiline);
    if (!why.empty()) return BadChar{pos, shown(s, pos, c), why};
    pos += c.length;
  }
  return std::nullopt;
}

std::string escape_unprintable(std::string_view s, bool multiline) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    Utf8Char c = decode_utf8(s, pos);
    if (unprintable_reason(c, multiline).empty()) out.append(s.substr(pos, c.length));
    else out += shown(s, pos, c);
    pos += c.length;
  }
  return out;
}

std::string escaped_prefix(std::string_view s, size_t max_chars) {
  size_t pos = 0;
  for (size_t n = 0; pos < s.size() && n < max_chars; ++n) pos += decode_utf8(s, pos).length;
  return escape_unprintable(s.substr(0, pos), false) + (pos < s.size() ? "..." : "");
}

}  // namespace kpath
