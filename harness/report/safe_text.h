// Text that came from outside (case and generator names, file names, error
// messages, rule dumps) on its way into an XML or HTML report.
#pragma once

#include <string>
#include <string_view>

namespace harness {

// `s` as valid UTF-8 holding only characters XML 1.0 allows and a reader can
// see: a byte that is not UTF-8 becomes the text \xNN, a control character
// (C0 but tab and newline, DEL, C1, so ANSI escapes too) or a noncharacter
// (U+FFFE, U+FFFF, U+FDD0..U+FDEF, ...) becomes \u{NN}.
std::string xml_safe(std::string_view s);

// xml_safe(s) with & < > " ' written as character references: safe as HTML
// text and as a quoted attribute value.
std::string html_escape(std::string_view s);

}  // namespace harness
