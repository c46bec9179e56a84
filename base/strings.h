// Small string helpers every layer needs. Prefixes and suffixes are C++20's
// own std::string::starts_with / ends_with; what the standard lacks is here.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace kpath {

// The lines of `text` as std::getline reads them: split at '\n', no line for
// what follows a final '\n', so "" has none and "a\n\nb\n" has "a", "", "b".
// A '\r' before the '\n' stays (trim() removes it).
std::vector<std::string> split_lines(std::string_view text);

// Whether `s` starts with one of the prefixes.
bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> prefixes);

// `s` without leading and trailing blanks (space, tab, '\r'): a view into
// `s`, so `s` must outlive it.
std::string_view trim(std::string_view s);

// The items with `sep` between each two: join({"a", "b"}, ", ") is "a, b".
std::string join(const std::vector<std::string>& items, std::string_view sep);

// `s` with ASCII letters in lower case; other bytes (UTF-8 included) as they are.
std::string ascii_lower(std::string_view s);

}  // namespace kpath
