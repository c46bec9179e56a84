#include "netns/nftables.h"

#include <endian.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <array>
#include <map>
#include <optional>
#include <tuple>

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

std::vector<NftRuleCounter> nft_rule_counters(const Namespace& ns) {
  Netlink nl(ns, NETLINK_NETFILTER);
  nlmsghdr* nlh = nl.begin(static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE), NLM_F_DUMP);
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = NFPROTO_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;

  std::vector<NftRuleCounter> out;
  std::map<std::tuple<std::string, std::string>, int> positions;
  nl.dump(
      nlh,
      [&](const nlmsghdr* msg) {
        const auto* g = detail::header_of<nfgenmsg>(msg);
        if (!g) return;
        std::array<const nlattr*, NFTA_RULE_MAX + 1> tb{};
        detail::parse_attrs(msg, sizeof(nfgenmsg), tb);
        auto table = detail::read_str(tb[NFTA_RULE_TABLE]);
        auto chain = detail::read_str(tb[NFTA_RULE_CHAIN]);
        auto handle = read_be64(tb[NFTA_RULE_HANDLE]);
        if (!table || !chain || !handle) return;
        std::string t = family_name(g->nfgen_family) + " " + *table;
        int position = positions[{t, *chain}]++;
        if (auto packets = counter_of(tb[NFTA_RULE_EXPRESSIONS]))
          out.push_back({t, *chain, *handle, position, *packets});
      },
      "dump nf_tables rules in " + detail::label(ns));
  return out;
}

}  // namespace netns
