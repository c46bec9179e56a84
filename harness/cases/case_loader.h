// Reads case files (docs/case-format.md) into the model. Every problem with the
// input throws kpath::Error naming the file, 1-based line and column, what was
// expected and what was found; a Case is returned only when all of it is valid.
// What loads but may not do what its author meant is a Warning on the Case.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/model/model.h"

namespace harness {

// The loader's limits (docs/case-format.md, "Limits"); each has its own message.
inline constexpr uint64_t kMaxCaseFileBytes = 4 << 20;  // read before parsing
inline constexpr long kMaxYamlNodes = 100'000;          // counting every alias as a copy
inline constexpr int kMaxYamlNesting = 64;              // maps and lists inside each other
inline constexpr int kMaxAliasDepth = 8;                // aliases to anchors holding aliases ...
inline constexpr size_t kMaxNameLength = 63;            // every name (a DNS label's limit)
// kube-nftables writes NAMESPACE/SERVICE:PORT as an nft comment, which holds 128.
inline constexpr size_t kMaxServicePortNameLength = 128;
// Worst case for one expectation: every probe waits out its timeout.
inline constexpr int kMaxExpectationSeconds = 600;

Case load_case(const std::string& path);
// `file_name` is used in errors and to resolve a relative `generator: ruleset:PATH`.
Case parse_case(const std::string& text, const std::string& file_name);
// Case files (*.yaml, *.yml) among `paths`, folders searched recursively
// (symbolic links to folders are not followed); sorted. Entries named like
// case files that are not regular files (FIFOs, dangling or looping links)
// are listed too, so that load_case reports each by name. Throws when a path
// does not exist or a folder cannot be listed.
std::vector<std::string> find_case_files(const std::vector<std::string>& paths);
// For the folders among `paths` that hold no case file: "no *.yaml case files
// in DIR; found instead: notes.txt (a regular file), ..." (or "...: the folder
// is empty"), one sentence per folder; "" when every folder holds one.
std::string why_no_case_files(const std::vector<std::string>& paths);
// `--strict`: throws the first warning of `c` as an error.
void reject_warnings(const Case& c);

}  // namespace harness
