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
  // Also fails when `ip` lies in a claimed range.
  void claim(const Reader& r, const YAML::Node& at, const Ip& ip, const std::string& owner);
  // A whole network (an external client's sourceRange): no claimed address
  // may lie in it, and no other claimed range may overlap it.
  void claim_range(const Reader& r, const YAML::Node& at, const Cidr& range, const std::string& owner);
  const std::string* owner(const Ip& ip) const;

 private:
  std::map<Ip, std::pair<std::string, int>> owners_;          // ip -> (owner, line)
  std::map<Cidr, std::pair<std::string, int>> range_owners_;  // range -> (owner, line)
};

}  // namespace harness::cases
