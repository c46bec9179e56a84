#include "harness/report/safe_text.h"

#include <fmt/format.h>

#include <optional>

namespace harness {

namespace {

struct Decoded {
  std::optional<char32_t> code_point;  // nullopt: the byte at pos starts no valid sequence
  size_t length = 1;
};

// One UTF-8 sequence at pos; rejects stray continuations, overlong forms,
// surrogates and code points beyond U+10FFFF.
Decoded decode(std::string_view s, size_t pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b = byte(pos);
  if (b < 0x80) return {b, 1};
  size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
  if (len == 0 || b > 0xF4 || pos + len > s.size()) return {};
  char32_t cp = b & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (byte(pos + i) & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {};
  return {cp, len};
}

bool hidden(char32_t c) {
  if (c == '\t' || c == '\n') return false;
  if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return true;         // C0, DEL, C1
  if (c >= 0xFDD0 && c <= 0xFDEF) return true;                    // noncharacters
  return (c & 0xFFFE) == 0xFFFE;                                  // U+xFFFE, U+xFFFF
}

}  // namespace

std::string xml_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    Decoded d = decode(s, pos);
    if (!d.code_point)
      out += fmt::format("\\x{:02X}", static_cast<unsigned char>(s[pos]));
    else if (hidden(*d.code_point))
      out += fmt::format("\\u{{{:X}}}", static_cast<uint32_t>(*d.code_point));
    else
      out.append(s.substr(pos, d.length));
    pos += d.length;
  }
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char ch : xml_safe(s)) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

}  // namespace harness
