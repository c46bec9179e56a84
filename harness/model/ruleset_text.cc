#include "harness/model/ruleset_text.h"

#include <string_view>

#include "base/error.h"
#include "base/file.h"
#include "base/strings.h"
#include "base/text.h"

namespace harness {

namespace {

bool iptables_save_line(std::string_view l) { return l[0] == '*' || l[0] == ':' || l[0] == '-' || l == "COMMIT"; }

bool nft_line(std::string_view l) {
  std::string_view word = l.substr(0, l.find_first_of(" \t{"));
  for (const char* w :
       {"table", "add", "create", "insert", "replace", "delete", "destroy", "flush", "define", "include", "reset"})
    if (word == w) return true;
  return false;
}

}  // namespace

std::string read_ruleset_file(const std::string& path) {
  std::string text = kpath::read_regular_file(path, kMaxRulesetBytes, "ruleset file");
  if (auto nul = text.find('\0'); nul != std::string::npos) {
    int line = 1;
    for (size_t i = 0; i < nul; ++i) line += text[i] == '\n';
    throw kpath::Error(path, line, 0, "holds a NUL byte: a ruleset file is iptables-save or nft text, not binary data");
  }
  int line = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string_view l = kpath::trim(std::string_view(text).substr(at, end - at));
    ++line;
    at = end + 1;
    if (l.empty() || l[0] == '#') continue;
    if (iptables_save_line(l) || nft_line(l)) return text;
    throw kpath::Error(path, line, 0,
                       "is neither an iptables-save dump (*nat, :CHAIN, -A ..., COMMIT) nor an nft script (table, "
                       "add, flush, ...): its first line that is not a comment starts with '" +
                           kpath::escaped_prefix(l, kRulesetEcho) + "'");
  }
  throw kpath::Error(path, 0, 0,
                     text.empty()
                         ? "is empty: a ruleset file holds iptables-save or nft rules"
                         : "holds only comments and blank lines: a ruleset file holds iptables-save or nft rules");
}

}  // namespace harness
