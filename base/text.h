// Text that came from outside (case files, file names, rule dumps) on its way
// to a terminal or an XML file: UTF-8 checks and escaping. Dependency-free.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kpath {

// One decoded UTF-8 sequence at `pos`: the code point and its length in
// bytes, or nullopt (with `length` 1) for a byte that starts no valid
// sequence (stray continuation, overlong form, surrogate, beyond U+10FFFF).
struct Utf8Char {
  std::optional<char32_t> code_point;
  size_t length = 1;
};
Utf8Char decode_utf8(std::string_view s, size_t pos);

// Why a character may not appear in a name or a line of free text, or "" when
// it may: "a byte that is not UTF-8", "a control character", "a noncharacter" (U+FFFE, U+FFFF
// and the other 64), "a bidirectional control". Tab and newline are allowed
// when `multiline`.
std::string unprintable_reason(const Utf8Char& c, bool multiline);

// The first character of `s` that unprintable_reason() rejects.
struct BadChar {
  size_t offset = 0;  // byte offset in `s`
  std::string shown;  // as escape_unprintable shows it: \x00, \u{1B}, \xE9
  std::string reason;
};
std::optional<BadChar> find_unprintable(std::string_view s, bool multiline);

// `s` with every character find_unprintable() would report written as an
// escape (\xNN for a byte that is not UTF-8, \u{NN} for a code point), so the
// result is valid UTF-8 that cannot move a terminal's cursor, change its
// colours or reorder its text. Tab and newline stay when `multiline`.
std::string escape_unprintable(std::string_view s, bool multiline = true);

// escape_unprintable() of at most `max_chars` characters of `s` (cut at a
// character boundary), with "..." when it was cut.
std::string escaped_prefix(std::string_view s, size_t max_chars);

}  // namespace kpath
