#include "netns/link.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <array>
#include <chrono>
#include <thread>

#include "base/error.h"
#include "netns/detail.h"
#include "netns/rtnl.h"

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

// RTM_GETLINK for one link by name; statistics are skipped to keep the reply small.
nlmsghdr* begin_get(Netlink& nl, const std::string& name) {
  nlmsghdr* nlh = nl.begin(RTM_GETLINK, 0);
  put_ifinfomsg(nlh);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return nlh;
}

// The link attributes of an RTM_NEWLINK reply; false for any other message.
bool read_link(const nlmsghdr* reply, std::span<const nlattr*> tb) {
  if (reply->nlmsg_type != RTM_NEWLINK || !detail::header_of<ifinfomsg>(reply)) return false;
  detail::parse_attrs(reply, sizeof(ifinfomsg), tb);
  return true;
}

}  // namespace

void Rtnl::create_veth(const std::string& name, const Namespace& peer_ns, const std::string& peer_name) {
  nlmsghdr* nlh = begin_create(nl_, name);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  // VETH_INFO_PEER is an ifinfomsg followed by the peer's own attributes.
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  put_ifinfomsg(nlh);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name.c_str());
  // The peer is born in peer_ns, so no end ever shows up in a caller's namespace.
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(peer_ns.fd()));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  nl_.ack(nlh, "create veth " + name + " in " + label_ + " with peer " + peer_name + " in " + detail::label(peer_ns));
}

void Rtnl::create_bridge(const std::string& name) {
  nlmsghdr* nlh = begin_create(nl_, name);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(nlh, linkinfo);
  nl_.ack(nlh, "create bridge " + name + " in " + label_);
}

void Rtnl::set_master(const std::string& link, const std::string& bridge) {
  const int master = link_index(bridge);
  ifinfomsg* ifi = nullptr;
  nlmsghdr* nlh = begin_change(nl_, link, &ifi);
  mnl_attr_put_u32(nlh, IFLA_MASTER, static_cast<uint32_t>(master));
  nl_.ack(nlh, "attach link " + link + " to bridge " + bridge + " in " + label_);
}

void Rtnl::set_up(const std::string& link) {
  ifinfomsg* ifi = nullptr;
  nlmsghdr* nlh = begin_change(nl_, link, &ifi);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;  // touch only the UP bit
  nl_.ack(nlh, "set link " + link + " up in " + label_);
}

int Rtnl::link_index(const std::string& link) {
  const std::string what = "find link " + link + " in " + label_;
  int index = 0;
  nl_.query(
      begin_get(nl_, link),
      [&](const nlmsghdr* reply) {
        if (reply->nlmsg_type != RTM_NEWLINK) return;
        if (const auto* ifi = detail::header_of<ifinfomsg>(reply)) index = ifi->ifi_index;
      },
      what);
  if (index <= 0) throw kpath::Error(what + ": no reply");
  return index;
}

// IFLA_OPERSTATE (IF_OPER_*), read with one RTM_GETLINK.
int Rtnl::operstate(const std::string& link) {
  int state = IF_OPER_UNKNOWN;
  nl_.query(
      begin_get(nl_, link),
      [&](const nlmsghdr* reply) {
        std::array<const nlattr*, IFLA_MAX + 1> tb{};
        if (!read_link(reply, tb)) return;
        if (auto value = detail::read_u8(tb[IFLA_OPERSTATE])) state = *value;
      },
      "read state of link " + link + " in " + label_);
  return state;
}

void Rtnl::wait_until_up(const std::vector<std::string>& links, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& link : links) {
    while (operstate(link) != IF_OPER_UP) {
      if (std::chrono::steady_clock::now() > deadline)
        throw kpath::Error("link " + link + " in " + label_ + " did not come up within " +
                           std::to_string(timeout.count()) + " ms");
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
}

std::vector<std::string> Rtnl::list_links() {
  nlmsghdr* nlh = nl_.begin(RTM_GETLINK, 0);
  put_ifinfomsg(nlh);
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  std::vector<std::string> names;
  nl_.dump(
      nlh,
      [&](const nlmsghdr* reply) {
        std::array<const nlattr*, IFLA_MAX + 1> tb{};
        if (!read_link(reply, tb)) return;
        if (auto name = detail::read_str(tb[IFLA_IFNAME])) names.push_back(std::move(*name));
      },
      "list links in " + label_);
  return names;
}

std::vector<uint8_t> Rtnl::link_address(const std::string& link) {
  const std::string what = "read hardware address of link " + link + " in " + label_;
  std::vector<uint8_t> out;
  nl_.query(
      begin_get(nl_, link),
      [&](const nlmsghdr* reply) {
        std::array<const nlattr*, IFLA_MAX + 1> tb{};
        if (!read_link(reply, tb) || !tb[IFLA_ADDRESS]) return;
        const auto* bytes = static_cast<const uint8_t*>(mnl_attr_get_payload(tb[IFLA_ADDRESS]));
        out.assign(bytes, bytes + mnl_attr_get_payload_len(tb[IFLA_ADDRESS]));
      },
      what);
  if (out.empty()) throw kpath::Error(what + ": the link has none");
  return out;
}

// The one-call forms: a handle each.

void create_veth(const Namespace& a, const std::string& a_name, const Namespace& b, const std::string& b_name) {
  Rtnl(a).create_veth(a_name, b, b_name);
}

void create_bridge(const Namespace& ns, const std::string& name) { Rtnl(ns).create_bridge(name); }

void set_master(const Namespace& ns, const std::string& link, const std::string& bridge) {
  Rtnl(ns).set_master(link, bridge);
}

void set_up(const Namespace& ns, const std::string& link) { Rtnl(ns).set_up(link); }

int link_index(const Namespace& ns, const std::string& link) { return Rtnl(ns).link_index(link); }

void wait_until_up(const Namespace& ns, const std::vector<std::string>& links, std::chrono::milliseconds timeout) {
  Rtnl(ns).wait_until_up(links, timeout);
}

std::vector<std::string> list_links(const Namespace& ns) { return Rtnl(ns).list_links(); }

}  // namespace netns
