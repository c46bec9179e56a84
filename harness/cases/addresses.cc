#include "harness/cases/addresses.h"

#include <array>

namespace harness::cases {

bool is_private_or_documentation(const Ip& ip) {
  static const std::array<const char*, 10> ranges = {"10.0.0.0/8",     "172.16.0.0/12", "192.168.0.0/16",
                                                     "198.18.0.0/15",  "192.0.2.0/24",  "198.51.100.0/24",
                                                     "203.0.113.0/24", "fd00::/8",      "2001:db8::/32",
                                                     "127.0.0.0/8"};
  for (const char* r : ranges)
    if (Cidr::from(r).contains(ip)) return std::string(r) != "127.0.0.0/8";
  return false;
}

void check_safe(const Reader& r, const YAML::Node& at, const Ip& ip, const std::string& what, bool loopback_ok) {
  if (ip.is_loopback()) {
    if (!loopback_ok)
      r.fail(at,
             what + " " + ip.str() + " is a loopback address (loopback is only allowed as an expectation's target)");
    return;
  }
  if (!is_private_or_documentation(ip))
    r.fail(at, "public address " + ip.str() + " in " + what +
                   ": kpath only sends traffic to private and documentation ranges (10/8, "
                   "172.16/12, 192.168/16, 198.18/15, 192.0.2/24, 198.51.100/24, 203.0.113/24, "
                   "fd00::/8, 2001:db8::/32)");
}

void AddressBook::claim(const Reader& r, const YAML::Node& at, const Ip& ip, const std::string& owner) {
  auto it = owners_.find(ip);
  if (it != owners_.end())
    r.fail(at, "duplicate address " + ip.str() + ": " + owner + " uses it, but " + it->second.first + " (line " +
                   std::to_string(it->second.second) + ") already does");
  for (const auto& [range, by] : range_owners_)
    if (range.contains(ip))
      r.fail(at,
             owner + " address " + ip.str() + " is inside " + by.first + " (line " + std::to_string(by.second) + ")");
  owners_[ip] = {owner, r.where(at).line};
}

void AddressBook::claim_range(const Reader& r, const YAML::Node& at, const Cidr& range, const std::string& owner) {
  for (const auto& [ip, by] : owners_)
    if (range.contains(ip))
      r.fail(at, owner + "'s sourceRange " + range.str() + " holds " + ip.str() + ", the address of " + by.first +
                     " (line " + std::to_string(by.second) + ")");
  for (const auto& [other, by] : range_owners_)
    if (other.contains(range.ip()) || range.contains(other.ip()))
      r.fail(at, owner + "'s sourceRange " + range.str() + " overlaps " + by.first + " (line " +
                     std::to_string(by.second) + ")");
  range_owners_[range] = {owner + "'s sourceRange " + range.str(), r.where(at).line};
}

const std::string* AddressBook::owner(const Ip& ip) const {
  if (auto it = owners_.find(ip); it != owners_.end()) return &it->second.first;
  for (const auto& [range, by] : range_owners_)
    if (range.contains(ip)) return &by.first;
  return nullptr;
}

}  // namespace harness::cases
