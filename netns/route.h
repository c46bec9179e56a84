// Routes (iproute2's iproute.c).
// Each function opens a NETLINK_ROUTE socket for its one call; to configure a
// namespace step by step over one socket, use netns::Rtnl (rtnl.h).
#pragma once

#include <linux/rtnetlink.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/ip.h"
#include "netns/namespace.h"

namespace netns {

using kpath::Cidr;
using kpath::Ip;

struct Route {
  Cidr destination;           // 0.0.0.0/0 for a default route
  std::optional<Ip> gateway;  // via
  std::string device;         // dev; may be empty when gateway resolves it
  bool onlink = false;        // gateway need not be on a connected prefix
  // Type local (AnyIP): every address of destination is this namespace's own,
  // delivered to its sockets and answered to ARP, on device (lo).
  bool local = false;
  uint32_t table = RT_TABLE_MAIN;  // a policy rule (rule.h) may route through another
};

void add_route(const Namespace& ns, const Route& route);
// Adds the route, or replaces the one to the same destination in its table.
void replace_route(const Namespace& ns, const Route& route);

}  // namespace netns
