#include "harness/report/safe_text.h"

#include "base/text.h"

namespace harness {

// One escape for the terminal and for XML (base/text.h): what XML 1.0
// forbids is a subset of what it escapes.
std::string xml_safe(std::string_view s) { return kpath::escape_unprintable(s); }

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
