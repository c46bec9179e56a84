#include "netns/route.h"

#include <linux/rtnetlink.h>

#include <cstring>

#include "base/error.h"
#include "netns/rtnl.h"

namespace netns {

namespace {

std::string describe(const Route& route, bool replace) {
  std::string text = route.destination.str();
  if (route.local) text = "local " + text;
  if (route.gateway) text += " via " + route.gateway->str();
  if (!route.device.empty()) text += " dev " + route.device;
  if (route.onlink) text += " onlink";
  if (route.table != RT_TABLE_MAIN) text += " table " + std::to_string(route.table);
  return (replace ? "replace route " : "add route ") + text;
}

// An IPv4 route through an IPv6 gateway (RFC 5549) needs RTA_VIA, which
// carries its own family; a same-family gateway is a plain RTA_GATEWAY.
void put_gateway(nlmsghdr* nlh, int family, const Ip& gateway) {
  if (gateway.family() == family) {
    mnl_attr_put(nlh, RTA_GATEWAY, gateway.size(), gateway.data());
    return;
  }
  char via[sizeof(rtvia) + 16] = {};
  auto* rv = reinterpret_cast<rtvia*>(via);
  rv->rtvia_family = static_cast<__kernel_sa_family_t>(gateway.family());
  std::memcpy(rv->rtvia_addr, gateway.data(), gateway.size());
  mnl_attr_put(nlh, RTA_VIA, sizeof(rtvia) + gateway.size(), via);
}

}  // namespace

void Rtnl::add_route(const Route& route) { put_route(route, false); }

void Rtnl::replace_route(const Route& route) { put_route(route, true); }

void Rtnl::put_route(const Route& route, bool replace) {
  const std::string what = describe(route, replace) + " in " + label_;
  const Ip& dst = route.destination.ip();
  if (!dst.valid()) throw kpath::Error(what + ": destination has no address");
  if (!route.gateway && route.device.empty()) throw kpath::Error(what + ": needs a gateway or a device");
  const int oif = route.device.empty() ? 0 : link_index(route.device);

  nlmsghdr* nlh = nl_.begin(RTM_NEWROUTE, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL));
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = static_cast<uint8_t>(dst.family());
  rtm->rtm_dst_len = static_cast<uint8_t>(route.destination.prefix_len());
  // The header's table is one byte; RTA_TABLE carries any table, as iproute2 sends it.
  rtm->rtm_table = route.table < 256 ? static_cast<uint8_t>(route.table) : uint8_t{RT_TABLE_UNSPEC};
  rtm->rtm_protocol = RTPROT_BOOT;  // what `ip route add` uses by default
  rtm->rtm_type = route.local ? RTN_LOCAL : RTN_UNICAST;
  // A route through a gateway reaches beyond the link; a device route does
  // not; a local one ends in this host.
  rtm->rtm_scope = route.local ? RT_SCOPE_HOST : route.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  if (route.onlink) rtm->rtm_flags |= RTNH_F_ONLINK;

  // Host bits cleared: the kernel rejects "10.0.0.1/24" as a destination.
  const Ip net = route.destination.network().ip();
  if (rtm->rtm_dst_len > 0) mnl_attr_put(nlh, RTA_DST, net.size(), net.data());
  if (route.gateway) put_gateway(nlh, dst.family(), *route.gateway);
  if (oif > 0) mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(oif));
  mnl_attr_put_u32(nlh, RTA_TABLE, route.table);
  nl_.ack(nlh, what);
}

void add_route(const Namespace& ns, const Route& route) { Rtnl(ns).add_route(route); }

void replace_route(const Namespace& ns, const Route& route) { Rtnl(ns).replace_route(route); }

}  // namespace netns
