#include "netns/address.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <array>

#include "netns/detail.h"
#include "netns/rtnl.h"

namespace netns {

void Rtnl::add_address(const std::string& link, const Cidr& cidr) {
  const int index = link_index(link);
  nlmsghdr* nlh = nl_.begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
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
  nl_.ack(nlh, "add address " + cidr.str() + " to " + link + " in " + label_);
}

std::vector<Cidr> Rtnl::list_addresses(const std::string& link) {
  const int index = link_index(link);
  nlmsghdr* nlh = nl_.begin(RTM_GETADDR, 0);
  auto* req = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  req->ifa_family = AF_UNSPEC;
  std::vector<Cidr> out;
  nl_.dump(
      nlh,
      [&](const nlmsghdr* reply) {
        if (reply->nlmsg_type != RTM_NEWADDR) return;
        const auto* ifa = detail::header_of<ifaddrmsg>(reply);
        // Filtered here: the kernel filters dumps by index only in strict mode.
        if (!ifa || static_cast<int>(ifa->ifa_index) != index) return;
        std::array<const nlattr*, IFA_MAX + 1> tb{};
        detail::parse_attrs(reply, sizeof(ifaddrmsg), tb);
        // IFA_LOCAL is the own address on IPv4 point-to-point links; IPv6 has only IFA_ADDRESS.
        const nlattr* attr = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        if (auto ip = detail::read_ip(attr, ifa->ifa_family)) out.emplace_back(*ip, ifa->ifa_prefixlen);
      },
      "list addresses of " + link + " in " + label_);
  return out;
}

void add_address(const Namespace& ns, const std::string& link, const Cidr& cidr) { Rtnl(ns).add_address(link, cidr); }

std::vector<Cidr> list_addresses(const Namespace& ns, const std::string& link) { return Rtnl(ns).list_addresses(link); }

}  // namespace netns
