// Interface addresses (iproute2's ipaddress.c).
// Each function opens a NETLINK_ROUTE socket for its one call; to configure a
// namespace step by step over one socket, use netns::Rtnl (rtnl.h).
#pragma once

#include <string>
#include <vector>

#include "base/ip.h"
#include "netns/namespace.h"

namespace netns {

using kpath::Cidr;
using kpath::Ip;

// Adds cidr's address to link, with cidr's prefix length. IPv6 addresses are
// added with IFA_F_NODAD so they are usable at once.
void add_address(const Namespace& ns, const std::string& link, const Cidr& cidr);
std::vector<Cidr> list_addresses(const Namespace& ns, const std::string& link);

}  // namespace netns
