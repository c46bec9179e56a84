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
  owners_[ip] = {owner, r.where(at).line};
}

const std::string* AddressBook::owner(const Ip& ip) const {
  auto it = owners_.find(ip);
  return it == owners_.end() ? nullptr : &it->second.first;
}

}  // namespace harness::cases
