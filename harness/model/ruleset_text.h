// The file behind `ruleset:PATH`, read the same way when the case loads (so a
// wrong file is reported at the case's line before any topology is built) and
// when the generator installs it.
#pragma once

#include <cstdint>
#include <string>

namespace harness {

// A dump of a big cluster's rules runs to megabytes; this is far beyond that.
inline constexpr uint64_t kMaxRulesetBytes = 64 << 20;

// The text of a ruleset dump: a regular file of at most kMaxRulesetBytes,
// text without NUL bytes, with at least one line that is not a comment, the
// first of them starting like iptables-save (*table, :CHAIN, -A ..., COMMIT)
// or an nft script (table, add, flush, ...). Otherwise throws kpath::Error
// naming the path (and line). A wrong file may hold anything, keys included:
// messages show at most kRulesetEcho characters of it, escaped.
std::string read_ruleset_file(const std::string& path);
inline constexpr size_t kRulesetEcho = 8;

}  // namespace harness
