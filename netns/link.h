// Links (iproute2's iplink.c): veth pairs, bridges, state, master.
// Each function opens a NETLINK_ROUTE socket for its one call; to configure a
// namespace step by step over one socket, use netns::Rtnl (rtnl.h).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "netns/namespace.h"

namespace netns {

// Creates a veth pair with end a_name inside a and end b_name inside b, in one
// request sent from a (the peer is placed into b by IFLA_NET_NS_FD), so no end
// ever exists in the root namespace.
void create_veth(const Namespace& a, const std::string& a_name, const Namespace& b, const std::string& b_name);
// Creates a bridge inside ns.
void create_bridge(const Namespace& ns, const std::string& name);
// Attaches link to a bridge (both inside ns).
void set_master(const Namespace& ns, const std::string& link, const std::string& bridge);
void set_up(const Namespace& ns, const std::string& link);
// Returns the ifindex, or throws kpath::Error naming the link.
int link_index(const Namespace& ns, const std::string& link);
// Waits until every link is operationally up. The kernel attaches a link's
// queueing discipline and sets its operstate in deferred work (linkwatch), and
// drops what is sent before that, so traffic must wait for this.
void wait_until_up(const Namespace& ns, const std::vector<std::string>& links,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
// Names of all links in ns, "lo" included.
std::vector<std::string> list_links(const Namespace& ns);

}  // namespace netns
