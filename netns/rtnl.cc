#include "netns/rtnl.h"

#include <linux/netlink.h>

#include "netns/detail.h"

namespace netns {

Rtnl::Rtnl(const Namespace& ns) : nl_(ns, NETLINK_ROUTE), label_(detail::label(ns)) {}

}  // namespace netns
