// kpath's one error type. It lives in the lowest layer so that every layer
// above (netlink, case loader, generators, installers) throws the same thing.
#pragma once

#include <stdexcept>
#include <string>

namespace kpath {

class Error : public std::runtime_error {
 public:
  explicit Error(std::string message) : std::runtime_error(std::move(message)) {}

  // An error about a place in a file: "file:line:col: message".
  Error(const std::string& file, int line, int column, const std::string& message)
      : std::runtime_error(where(file, line, column) + message), file_(file), line_(line), column_(column) {}

  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  static std::string where(const std::string& file, int line, int column) {
    std::string w = file;
    if (line > 0) w += ":" + std::to_string(line);
    if (column > 0) w += ":" + std::to_string(column);
    return w.empty() ? w : w + ": ";
  }
  std::string file_;
  int line_ = 0;
  int column_ = 0;
};

}  // namespace kpath
