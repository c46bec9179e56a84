#include "netns/link.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <array>
#include <chrono>
#include <thread>

#include "netns/detail.h"
#include "base/error.h"
#include "netns/netlink.h"

namespace netns {

namespace {

ifinfomsg* put_ifinfomsg(nlmsghdr* nlh) {
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  return ifi;
}

// RTM_NEWLINK that creates name; the caller adds IFLA_LINKINFO.
nlmsghdr* begin_create(Netlink& nl, const std::string& name) {
  nlmsghdr* nlh = nl.begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  put_ifinfomsg(nlh);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  return nlh;
}

// RTM_NEWLINK without NLM_F_CREATE changes an existing link, found by name.
nlmsghdr* begin_change(Netlink& nl, const std::string& name, ifinfomsg** ifi) {
  nlmsghdr* nlh = nl.begin(RTM_NEWLINK, 0);
  *ifi = put_ifinfomsg(nlh);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  return nlh;
}

int index_of(Netlink& nl, const Namespace& ns, const std::string& link) {
  nlmsghdr* nlh = nl.begin(RTM_GETLINK, 0);
  put_ifinfomsg(nlh);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, link.c_str());
  // Statistics are not needed; skipping them keeps the reply small.
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  int index = 0;
  nl.query(
      nlh,
      [&](const nlmsghdr* reply) {
        if (reply->nlmsg_type != RTM_NEWLINK) return;
        index = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(reply))->ifi_index;
      },
      "find link " + link + " in " + detail::label(ns));
  if (index <= 0) throw kpath::Error("find link " + link + " in " + detail::label(ns) + ": no reply");
  return index;
}

}  // namespace

void create_veth(const Namespace& a, const std::string& a_name, const Namespace& b,
                 const std::string& b_name) {
  Netlink nl(a, NETLINK_ROUTE);
  nlmsghdr* nlh = begin_create(nl, a_name);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  // VETH_INFO_PEER is an ifinfomsg followed by the peer's own attributes.
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  put_ifinfomsg(nlh);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, b_name.c_str());
  // The peer is born in b, so no end ever shows up in a caller's namespace.
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(b.fd()));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  nl.ack(nlh, "create veth " + a_name + " in " + detail::label(a) + " with peer " + b_name +
                  " in " + detail::label(b));
}

void create_bridge(const Namespace& ns, const std::string& name) {
  Netlink nl(ns, NETLINK_ROUTE);
  nlmsghdr* nlh = begin_create(nl, name);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(nlh, linkinfo);
  nl.ack(nlh, "create bridge " + name + " in " + detail::label(ns));
}

void set_master(const Namespace& ns, const std::string& link, const std::string& bridge) {
  Netlink nl(ns, NETLINK_ROUTE);
  const int master = index_of(nl, ns, bridge);
  ifinfomsg* ifi = nullptr;
  nlmsghdr* nlh = begin_change(nl, link, &ifi);
  mnl_attr_put_u32(nlh, IFLA_MASTER, static_cast<uint32_t>(master));
  nl.ack(nlh, "attach link " + link + " to bridge " + bridge + " in " + detail::label(ns));
}

void set_up(const Namespace& ns, const std::string& link) {
  Netlink nl(ns, NETLINK_ROUTE);
  ifinfomsg* ifi = nullptr;
  nlmsghdr* nlh = begin_change(nl, link, &ifi);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;  // touch only the UP bit
  nl.ack(nlh, "set link " + link + " up in " + detail::label(ns));
}

int link_index(const Namespace& ns, const std::string& link) {
  Netlink nl(ns, NETLINK_ROUTE);
  return index_of(nl, ns, link);
}

std::vector<std::string> list_links(const Namespace& ns) {
  Netlink nl(ns, NETLINK_ROUTE);
  nlmsghdr* nlh = nl.begin(RTM_GETLINK, 0);
  put_ifinfomsg(nlh);
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  std::vector<std::string> names;
  nl.dump(
      nlh,
      [&](const nlmsghdr* reply) {
        if (reply->nlmsg_type != RTM_NEWLINK) return;
        std::array<const nlattr*, IFLA_MAX + 1> tb{};
        detail::parse_attrs(reply, sizeof(ifinfomsg), tb);
        if (tb[IFLA_IFNAME]) names.emplace_back(mnl_attr_get_str(tb[IFLA_IFNAME]));
      },
      "list links in " + detail::label(ns));
  return names;
}

}  // namespace netns

namespace netns {

namespace {

// IFLA_OPERSTATE of a link (IF_OPER_*), read with one RTM_GETLINK.
uint8_t operstate_of(Netlink& nl, const Namespace& ns, const std::string& link) {
  nlmsghdr* nlh = nl.begin(RTM_GETLINK, 0);
  put_ifinfomsg(nlh);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, link.c_str());
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  uint8_t state = IF_OPER_UNKNOWN;
  nl.query(
      nlh,
      [&](const nlmsghdr* reply) {
        if (reply->nlmsg_type != RTM_NEWLINK) return;
        std::array<const nlattr*, IFLA_MAX + 1> tb{};
        detail::parse_attrs(reply, sizeof(ifinfomsg), tb);
        if (tb[IFLA_OPERSTATE]) state = mnl_attr_get_u8(tb[IFLA_OPERSTATE]);
      },
      "read state of link " + link + " in " + detail::label(ns));
  return state;
}

}  // namespace

void wait_until_up(const Namespace& ns, const std::vector<std::string>& links, std::chrono::milliseconds timeout) {
  Netlink nl(ns, NETLINK_ROUTE);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& link : links) {
    while (operstate_of(nl, ns, link) != IF_OPER_UP) {
      if (std::chrono::steady_clock::now() > deadline)
        throw kpath::Error("link " + link + " in " + detail::label(ns) + " did not come up within " +
                           std::to_string(timeout.count()) + " ms");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
}

}  // namespace netns
