// Neighbour entries (RTM_NEWNEIGH / RTM_GETNEIGH), as `ip neigh` makes them.
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <array>

#include "base/error.h"
#include "netns/detail.h"
#include "netns/rtnl.h"

namespace netns {

bool Neighbour::permanent() const { return (state & NUD_PERMANENT) != 0; }

void Rtnl::add_permanent_neighbour(const std::string& link, const Ip& ip, const std::vector<uint8_t>& lladdr) {
  const int index = link_index(link);
  nlmsghdr* nlh = nl_.begin(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = static_cast<uint8_t>(ip.family());
  ndm->ndm_ifindex = index;
  ndm->ndm_state = NUD_PERMANENT;
  mnl_attr_put(nlh, NDA_DST, ip.size(), ip.data());
  mnl_attr_put(nlh, NDA_LLADDR, lladdr.size(), lladdr.data());
  nl_.ack(nlh, "add permanent neighbour " + ip.str() + " on " + link + " in " + label_);
}

std::vector<Neighbour> Rtnl::list_neighbours() {
  std::vector<Neighbour> out;
  nlmsghdr* nlh = nl_.begin(RTM_GETNEIGH, 0);
  auto* req = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  req->ndm_family = AF_UNSPEC;
  nl_.dump(
      nlh,
      [&](const nlmsghdr* reply) {
        if (reply->nlmsg_type != RTM_NEWNEIGH) return;
        const auto* ndm = detail::header_of<ndmsg>(reply);
        if (!ndm) return;
        std::array<const nlattr*, NDA_MAX + 1> tb{};
        detail::parse_attrs(reply, sizeof(ndmsg), tb);
        if (auto ip = detail::read_ip(tb[NDA_DST], ndm->ndm_family))
          out.push_back({*ip, ndm->ndm_ifindex, ndm->ndm_state});
      },
      "list neighbours in " + label_);
  return out;
}

}  // namespace netns
