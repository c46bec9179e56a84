// Policy routing rules (iproute2's iprule.c): before a route is looked up,
// the rules are tried in order of priority, and the first that matches names
// the table the route comes from.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.h"
#include "netns/namespace.h"

namespace netns {

using kpath::Cidr;

// `ip rule add pref PRIORITY [to DESTINATION] lookup TABLE`. Only rules that
// select by destination alone and look up a table are modelled; list_rules
// skips any other (from, iif, fwmark, not, ...), so none is mistaken for one.
struct RoutingRule {
  int family = AF_INET;             // AF_INET or AF_INET6
  uint32_t priority = 0;            // pref; 0 is the local table's default rule
  std::optional<Cidr> destination;  // to; every destination when absent
  uint32_t table = 0;               // lookup; 255 local, 254 main
  bool operator==(const RoutingRule&) const = default;
  std::string str() const;  // "pref 50 to 127.0.0.1/32 lookup 127"
};

// One-call wrappers; see netns::Rtnl (rtnl.h) for the same over one socket.
std::vector<RoutingRule> list_rules(const Namespace& ns, int family);
void add_rule(const Namespace& ns, const RoutingRule& rule);
void delete_rule(const Namespace& ns, const RoutingRule& rule);

}  // namespace netns
