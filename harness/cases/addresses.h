// Address rules every case obeys: bundled cases send traffic only to private
// and documentation ranges, and no address is declared twice.
#pragma once

#include <map>
#include <string>

#include "harness/cases/yaml_reader.h"

namespace harness::cases {

bool is_private_or_documentation(const Ip& ip);

// Fails unless `ip` is private/documentation; loopback only where allowed
// (an expectation's target), never as a declared address.
void check_safe(const Reader& r, const YAML::Node& at, const Ip& ip, const std::string& what, bool loopback_ok = false);

// Who declared each address, so a second claim can name the first.
class AddressBook {
 public:
  void claim(const Reader& r, const YAML::Node& at, const Ip& ip, const std::string& owner);
  const std::string* owner(const Ip& ip) const;

 private:
  std::map<Ip, std::pair<std::string, int>> owners_;  // ip -> (owner, line)
};

}  // namespace harness::cases
