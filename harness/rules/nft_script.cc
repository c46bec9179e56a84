#include "harness/rules/nft_script.h"

#include <sstream>

namespace harness {

namespace {

// One top-level command: its lines (a block or a continued line spans several).
struct Command {
  std::vector<std::string> lines;
  int first_line = 0;  // 1-based
  bool anonymous_set = false;
};

// The first two words of a command, lower-case as nft writes them.
bool is_rule_command(const std::string& text) {
  std::istringstream in(text);
  std::string verb, object;
  in >> verb >> object;
  if (verb == "rule") return true;
  return (verb == "add" || verb == "insert" || verb == "replace" || verb == "create") && object == "rule";
}

bool starts_with_word(const std::string& text, const char* word) {
  std::istringstream in(text);
  std::string first;
  in >> first;
  return first == word;
}

// The script's commands, or nullopt when it cannot be cut (see split_nft_script).
std::optional<std::vector<Command>> commands(const std::string& script) {
  std::vector<Command> out;
  Command current;
  std::string code;  // the current command's text outside quotes and comments
  int depth = 0;
  bool quoted = false;
  std::istringstream in(script);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (current.lines.empty()) current.first_line = n;
    current.lines.push_back(line);
    bool continued = false;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quoted) {
        if (c == '"') quoted = false;
        continue;
      }
      if (c == '#') break;
      if (c == '"') quoted = true;
      else if (c == '{') ++depth;
      else if (c == '}') --depth;
      else if (c == '$') return std::nullopt;  // a variable: defined in another transaction
      code += c;
    }
    // A string ends on its line; a backslash at the end continues the command.
    if (quoted) return std::nullopt;
    auto last = code.find_last_not_of(" \t\r");
    if (last != std::string::npos && code[last] == '\\') continued = true;
    code += ' ';
    if (depth < 0) return std::nullopt;
    if (depth > 0 || continued) continue;
    if (starts_with_word(code, "define") || starts_with_word(code, "redefine") || starts_with_word(code, "undefine") ||
        starts_with_word(code, "include"))
      return std::nullopt;
    current.anonymous_set = is_rule_command(code) && code.find('{') != std::string::npos;
    out.push_back(std::move(current));
    current = Command{};
    code.clear();
  }
  if (depth != 0 || !current.lines.empty()) return std::nullopt;
  return out;
}

}  // namespace

size_t nft_anonymous_sets(const std::string& script) {
  auto all = commands(script);
  size_t n = 0;
  if (all)
    for (const auto& c : *all) n += c.anonymous_set;
  return n;
}

std::optional<std::vector<NftTransaction>> split_nft_script(const std::string& script, size_t per_transaction) {
  if (per_transaction == 0) return std::nullopt;
  auto all = commands(script);
  if (!all) return std::nullopt;
  std::vector<NftTransaction> out(1);
  size_t in_this = 0;
  for (const auto& command : *all) {
    if (in_this == per_transaction) {
      out.emplace_back();
      in_this = 0;
    }
    for (size_t i = 0; i < command.lines.size(); ++i) {
      out.back().text += command.lines[i] + "\n";
      out.back().lines.push_back(command.first_line + static_cast<int>(i));
    }
    in_this += command.anonymous_set;
  }
  return out;
}

}  // namespace harness
