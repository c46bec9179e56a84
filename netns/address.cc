#include "netns/address.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <array>

#include "netns/detail.h"
#include "netns/link.h"
#include "netns/netlink.h"

namespace netns {

void add_address(const Namespace& ns, const std::string& link, const Cidr& cidr) {
  const int index = link_index(ns, link);
  Netlink nl(ns, NETLINK_ROUTE);
  nlmsghdr* nlh = nl.begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  const Ip& ip = cidr.ip();
  ifa->ifa_family = static_cast<uint8_t>(ip.family());
  ifa->ifa_prefixlen = static_cast<uint8_t>(cidr.prefix_len());
  ifa->ifa_index = static_cast<uint32_t>(index);
  ifa->ifa_scope = ip.is_loopback() ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
  // Without NODAD an IPv6 address stays "tentative" (unusable) for ~1 s.
  if (ip.is_v6()) ifa->ifa_flags = IFA_F_NODAD;
  // Like iproute2: IFA_LOCAL is the address, IFA_ADDRESS the (same) peer.
  mnl_attr_put(nlh, IFA_LOCAL, ip.size(), ip.data());
  mnl_attr_put(nlh, IFA_ADDRESS, ip.size(), ip.data());
  nl.ack(nlh, "add address " + cidr.str() + " to " + link + " in " + detail::label(ns));
}

std::vector<Cidr> list_addresses(const Namespace& ns, const std::string& link) {
  const int index = link_index(ns, link);
  Netlink nl(ns, NETLINK_ROUTE);
  nlmsghdr* nlh = nl.begin(RTM_GETADDR, 0);
  auto* req = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  req->ifa_family = AF_UNSPEC;
  std::vector<Cidr> out;
  nl.dump(
      nlh,
      [&](const nlmsghdr* reply) {
        if (reply->nlmsg_type != RTM_NEWADDR) return;
        auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(reply));
        // Filtered here: the kernel filters dumps by index only in strict mode.
        if (static_cast<int>(ifa->ifa_index) != index) return;
        std::array<const nlattr*, IFA_MAX + 1> tb{};
        detail::parse_attrs(reply, sizeof(ifaddrmsg), tb);
        // IFA_LOCAL is the own address on IPv4 point-to-point links; IPv6 has only IFA_ADDRESS.
        const nlattr* attr = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        if (!attr) return;
        const size_t want = ifa->ifa_family == AF_INET ? 4 : 16;
        if (mnl_attr_get_payload_len(attr) != want) return;
        out.emplace_back(detail::ip_from_bytes(ifa->ifa_family, mnl_attr_get_payload(attr)),
                         ifa->ifa_prefixlen);
      },
      "list addresses of " + link + " in " + detail::label(ns));
  return out;
}

}  // namespace netns
