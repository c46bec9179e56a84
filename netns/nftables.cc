#include "netns/nftables.h"

#include <endian.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <array>
#include <optional>

#include "netns/detail.h"
#include "netns/netlink.h"

namespace netns {

namespace {

std::string family_name(uint8_t family) {
  switch (family) {
    case NFPROTO_IPV4: return "ip";
    case NFPROTO_IPV6: return "ip6";
    case NFPROTO_INET: return "inet";
    case NFPROTO_ARP: return "arp";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_NETDEV: return "netdev";
  }
  return "family" + std::to_string(family);
}

std::optional<uint64_t> read_be64(const nlattr* attr) {
  if (!attr || mnl_attr_validate(attr, MNL_TYPE_U64) < 0) return std::nullopt;
  return be64toh(mnl_attr_get_u64(attr));
}

// The packets of a counter expression (one NFTA_LIST_ELEM), if it is one.
std::optional<uint64_t> counter_packets(const nlattr* elem) {
  std::array<const nlattr*, NFTA_EXPR_MAX + 1> expr{};
  if (mnl_attr_get_type(elem) != NFTA_LIST_ELEM || !detail::parse_nested(elem, expr)) return std::nullopt;
  if (detail::read_str(expr[NFTA_EXPR_NAME]) != "counter") return std::nullopt;
  std::array<const nlattr*, NFTA_COUNTER_MAX + 1> data{};
  if (!detail::parse_nested(expr[NFTA_EXPR_DATA], data)) return std::nullopt;
  return read_be64(data[NFTA_COUNTER_PACKETS]);
}

// The packets of the rule's counter expression, if it has one.
std::optional<uint64_t> counter_of(const nlattr* expressions) {
  if (!expressions || mnl_attr_validate(expressions, MNL_TYPE_NESTED) < 0) return std::nullopt;
  std::optional<uint64_t> found;
  mnl_attr_parse_nested(
      expressions,
      [](const nlattr* elem, void* data) {
        auto& out = *static_cast<std::optional<uint64_t>*>(data);
        if (!out) out = counter_packets(elem);
        return MNL_CB_OK;
      },
      &found);
  return found;
}

}  // namespace

namespace {

// A chain as the kernel names it.
struct ChainName {
  uint8_t family = 0;
  std::string table;
  std::string chain;
};

nlmsghdr* nftables_request(Netlink& nl, uint16_t message, uint8_t family) {
  nlmsghdr* nlh = nl.begin(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | message), NLM_F_DUMP);
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return nlh;
}

// Every chain of every table, in the kernel's order.
std::vector<ChainName> chain_names(Netlink& nl, const Namespace& ns) {
  std::vector<ChainName> out;
  nl.dump(
      nftables_request(nl, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC),
      [&](const nlmsghdr* msg) {
        const auto* g = detail::header_of<nfgenmsg>(msg);
        if (!g) return;
        std::array<const nlattr*, NFTA_CHAIN_MAX + 1> tb{};
        detail::parse_attrs(msg, sizeof(nfgenmsg), tb);
        auto table = detail::read_str(tb[NFTA_CHAIN_TABLE]);
        auto chain = detail::read_str(tb[NFTA_CHAIN_NAME]);
        if (table && chain) out.push_back({g->nfgen_family, *table, *chain});
      },
      "dump nf_tables chains in " + detail::label(ns));
  return out;
}

// One chain's counted rules, appended to out. The dump names its table and
// chain, so the kernel finds the chain by hash; an unfiltered dump walks every
// rule before the ones it has yet to send at each batch of messages, which at
// 170,000 rules (10,000 Services in iptables mode) took most of a run's CPU.
void chain_rule_counters(Netlink& nl, const Namespace& ns, const ChainName& c, std::vector<NftRuleCounter>& out) {
  nlmsghdr* nlh = nftables_request(nl, NFT_MSG_GETRULE, c.family);
  mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, c.table.c_str());
  mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, c.chain.c_str());
  const std::string table = family_name(c.family) + " " + c.table;
  int position = 0;
  try {
    nl.dump(
        nlh,
        [&](const nlmsghdr* msg) {
          std::array<const nlattr*, NFTA_RULE_MAX + 1> tb{};
          detail::parse_attrs(msg, sizeof(nfgenmsg), tb);
          auto handle = read_be64(tb[NFTA_RULE_HANDLE]);
          if (!handle) return;
          int at = position++;
          if (auto packets = counter_of(tb[NFTA_RULE_EXPRESSIONS]))
            out.push_back({table, c.chain, *handle, at, *packets});
        },
        "dump the nf_tables rules of " + table + " " + c.chain + " in " + detail::label(ns));
  } catch (const NetlinkError& e) {
    if (e.code() != ENOENT) throw;  // the chain went away since the chain dump: it has no rules to count
  }
}

}  // namespace

std::vector<NftRuleCounter> nft_rule_counters(const Namespace& ns) {
  Netlink nl(ns, NETLINK_NETFILTER);
  std::vector<NftRuleCounter> out;
  for (const auto& chain : chain_names(nl, ns)) chain_rule_counters(nl, ns, chain, out);
  return out;
}

}  // namespace netns
