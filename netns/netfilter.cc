#include "netns/netfilter.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_acct.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

#include "netns/detail.h"
#include "netns/netlink.h"

namespace netns {

namespace {

nlmsghdr* begin_nfnl(Netlink& nl, uint8_t subsys, uint8_t type, uint16_t flags, uint8_t family) {
  nlmsghdr* nlh = nl.begin(static_cast<uint16_t>((subsys << 8) | type), flags);
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return nlh;
}

// One dumped entry plus what is needed to address it again for deletion.
struct Tracked {
  ConntrackEntry entry;
  uint16_t zone = 0;
};

// Every attribute is validated before it is read (detail::read_*, libmnl's
// nfct-dump.c discipline); an entry with a malformed attribute is left out
// rather than reported (or deleted) with made-up fields.

bool read_ips(const nlattr* tuple_ip, int family, Ip& src, Ip& dst) {
  std::array<const nlattr*, CTA_IP_MAX + 1> tb{};
  if (!detail::parse_nested(tuple_ip, tb)) return false;
  auto s = detail::read_ip(tb[family == AF_INET ? CTA_IP_V4_SRC : CTA_IP_V6_SRC], family);
  auto d = detail::read_ip(tb[family == AF_INET ? CTA_IP_V4_DST : CTA_IP_V6_DST], family);
  if (!s || !d) return false;
  src = *s;
  dst = *d;
  return true;
}

// Ports stay 0 for protocols without them (ICMP carries id/type/code instead);
// a port attribute that is present must be a valid one.
bool read_proto(const nlattr* tuple_proto, int& protocol, uint16_t& sport, uint16_t& dport) {
  std::array<const nlattr*, CTA_PROTO_MAX + 1> tb{};
  if (!detail::parse_nested(tuple_proto, tb)) return false;
  auto num = detail::read_u8(tb[CTA_PROTO_NUM]);
  auto src = detail::read_be16(tb[CTA_PROTO_SRC_PORT]);
  auto dst = detail::read_be16(tb[CTA_PROTO_DST_PORT]);
  if (!num || (tb[CTA_PROTO_SRC_PORT] && !src) || (tb[CTA_PROTO_DST_PORT] && !dst)) return false;
  protocol = *num;
  sport = src.value_or(0);
  dport = dst.value_or(0);
  return true;
}

bool read_tuple(const nlattr* tuple, int family, Ip& src, Ip& dst, int& protocol, uint16_t& sport, uint16_t& dport) {
  std::array<const nlattr*, CTA_TUPLE_MAX + 1> tb{};
  return detail::parse_nested(tuple, tb) && read_ips(tb[CTA_TUPLE_IP], family, src, dst) &&
         read_proto(tb[CTA_TUPLE_PROTO], protocol, sport, dport);
}

bool read_entry(const nlmsghdr* nlh, Tracked& out) {
  const auto* nfg = detail::header_of<nfgenmsg>(nlh);
  if (!nfg) return false;
  const int family = nfg->nfgen_family;
  if (family != AF_INET && family != AF_INET6) return false;
  std::array<const nlattr*, CTA_MAX + 1> tb{};
  detail::parse_attrs(nlh, sizeof(nfgenmsg), tb);
  ConntrackEntry& e = out.entry;
  int reply_protocol = 0;
  if (!read_tuple(tb[CTA_TUPLE_ORIG], family, e.orig_src, e.orig_dst, e.protocol, e.orig_sport, e.orig_dport) ||
      !read_tuple(tb[CTA_TUPLE_REPLY], family, e.reply_src, e.reply_dst, reply_protocol, e.reply_sport, e.reply_dport))
    return false;
  auto zone = detail::read_be16(tb[CTA_ZONE]);
  if (tb[CTA_ZONE] && !zone) return false;
  out.zone = zone.value_or(0);
  return true;
}

std::vector<Tracked> dump_family(Netlink& nl, const Namespace& ns, uint8_t family) {
  std::vector<Tracked> entries;
  nlmsghdr* nlh = begin_nfnl(nl, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET, 0, family);
  nl.dump(
      nlh,
      [&](const nlmsghdr* reply) {
        Tracked t;
        if (read_entry(reply, t)) entries.push_back(std::move(t));
      },
      std::string("dump ") + (family == AF_INET ? "IPv4" : "IPv6") + " conntrack entries in " + detail::label(ns));
  return entries;
}

// Per family: with AF_UNSPEC older kernels dump only IPv4.
std::vector<Tracked> dump_all(Netlink& nl, const Namespace& ns) {
  std::vector<Tracked> all = dump_family(nl, ns, AF_INET);
  for (auto& t : dump_family(nl, ns, AF_INET6)) all.push_back(std::move(t));
  return all;
}

void put_original_tuple(nlmsghdr* nlh, const ConntrackEntry& e) {
  const bool v4 = e.orig_src.is_v4();
  nlattr* tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
  nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
  mnl_attr_put(nlh, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, e.orig_src.size(), e.orig_src.data());
  mnl_attr_put(nlh, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, e.orig_dst.size(), e.orig_dst.data());
  mnl_attr_nest_end(nlh, ip);
  nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
  mnl_attr_put_u8(nlh, CTA_PROTO_NUM, static_cast<uint8_t>(e.protocol));
  mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(e.orig_sport));
  mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(e.orig_dport));
  mnl_attr_nest_end(nlh, proto);
  mnl_attr_nest_end(nlh, tuple);
}

std::string flow_text(const ConntrackEntry& e) {
  return "proto " + std::to_string(e.protocol) + " " + e.orig_src.str() + ":" + std::to_string(e.orig_sport) + " -> " +
         e.orig_dst.str() + ":" + std::to_string(e.orig_dport);
}

}  // namespace

std::vector<ConntrackEntry> conntrack_dump(const Namespace& ns) {
  Netlink nl(ns, NETLINK_NETFILTER);
  std::vector<ConntrackEntry> out;
  for (auto& t : dump_all(nl, ns)) out.push_back(std::move(t.entry));
  return out;
}

int conntrack_delete_if(const Namespace& ns, const std::function<bool(const ConntrackEntry&)>& match) {
  Netlink nl(ns, NETLINK_NETFILTER);
  int deleted = 0;
  for (const Tracked& t : dump_all(nl, ns)) {
    const ConntrackEntry& e = t.entry;
    if (!match(e)) continue;
    nlmsghdr* nlh = begin_nfnl(nl, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE, 0,
                               static_cast<uint8_t>(e.orig_src.family()));
    put_original_tuple(nlh, e);
    if (t.zone != 0) mnl_attr_put_u16(nlh, CTA_ZONE, htons(t.zone));
    try {
      nl.ack(nlh, "delete conntrack entry " + flow_text(e) + " in " + detail::label(ns));
      ++deleted;
    } catch (const NetlinkError& error) {
      if (error.code() != ENOENT) throw;  // expired since the dump: not ours to count
    }
  }
  return deleted;
}

int conntrack_delete(const Namespace& ns, int protocol, const Ip& orig_dst, uint16_t dport) {
  return conntrack_delete_if(ns, [&](const ConntrackEntry& e) {
    return e.protocol == protocol && e.orig_dst == orig_dst && (dport == 0 || e.orig_dport == dport);
  });
}

void conntrack_flush(const Namespace& ns) {
  Netlink nl(ns, NETLINK_NETFILTER);
  // A delete without a tuple flushes the family given in nfgenmsg.
  for (uint8_t family : {AF_INET, AF_INET6}) {
    nlmsghdr* nlh = begin_nfnl(nl, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE, 0, family);
    nl.ack(nlh, std::string("flush ") + (family == AF_INET ? "IPv4" : "IPv6") + " conntrack entries in " +
                    detail::label(ns));
  }
}

void nfacct_add(const Namespace& ns, const std::string& name) {
  Netlink nl(ns, NETLINK_NETFILTER);
  nlmsghdr* nlh = begin_nfnl(nl, NFNL_SUBSYS_ACCT, NFNL_MSG_ACCT_NEW, NLM_F_CREATE, AF_UNSPEC);
  mnl_attr_put_strz(nlh, NFACCT_NAME, name.c_str());
  const std::string what = "create nfacct counter " + name + " in " + detail::label(ns);
  try {
    nl.ack(nlh, what);
  } catch (const NetlinkError& error) {
    // The kernel answers a second add of the same name (without NLM_F_REPLACE) with EBUSY.
    if (error.code() == EBUSY)
      throw NetlinkError(EBUSY, std::string(error.what()) + ": a counter of that name already exists");
    throw;
  }
}

}  // namespace netns
