// Netfilter objects over nfnetlink (NETLINK_NETFILTER): conntrack entries and
// nfacct counters, as kube-proxy prepares and maintains them.
//
// Raw nfnetlink over libmnl, not libnetfilter_conntrack: libmnl is already the
// one netlink dependency (rtnetlink uses it), and the library would add two
// packages (libnetfilter-conntrack, libnfnetlink) for about 150 lines of
// dump/delete. What the library would guarantee, the code keeps itself with
// libmnl's own discipline (examples/netfilter/nfct-dump.c): every attribute is
// validated for type and length before it is read.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.h"
#include "netns/namespace.h"

namespace netns {

using kpath::Cidr;
using kpath::Ip;

struct ConntrackEntry {
  int protocol = 0;  // IPPROTO_TCP / IPPROTO_UDP
  Ip orig_src, orig_dst, reply_src, reply_dst;
  uint16_t orig_sport = 0, orig_dport = 0, reply_sport = 0, reply_dport = 0;
};

// All IPv4 and IPv6 conntrack entries of ns.
std::vector<ConntrackEntry> conntrack_dump(const Namespace& ns);
// Deletes entries whose original destination is dst (and port, when non-zero)
// for protocol; returns how many were deleted.
int conntrack_delete(const Namespace& ns, int protocol, const Ip& orig_dst, uint16_t dport = 0);
// Deletes the entries for which match returns true; returns how many.
int conntrack_delete_if(const Namespace& ns, const std::function<bool(const ConntrackEntry&)>& match);
// Deletes every entry of ns.
void conntrack_flush(const Namespace& ns);

// Creates a named nfacct counter object (what `nfacct add NAME` does).
void nfacct_add(const Namespace& ns, const std::string& name);

}  // namespace netns
