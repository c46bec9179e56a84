#include "netns/rule.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <array>
#include <span>

#include "base/error.h"
#include "netns/detail.h"
#include "netns/rtnl.h"

namespace netns {

namespace {

// The header and attributes of one rule, for RTM_NEWRULE and RTM_DELRULE.
void put_rule(nlmsghdr* nlh, const RoutingRule& rule) {
  auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
  frh->family = static_cast<uint8_t>(rule.family);
  frh->action = FR_ACT_TO_TBL;
  // The header's table is one byte; FRA_TABLE carries any table, as iproute2 sends it.
  frh->table = rule.table < 256 ? static_cast<uint8_t>(rule.table) : uint8_t{RT_TABLE_UNSPEC};
  mnl_attr_put_u32(nlh, FRA_TABLE, rule.table);
  mnl_attr_put_u32(nlh, FRA_PRIORITY, rule.priority);
  if (rule.destination) {
    const kpath::Ip dst = rule.destination->network().ip();
    frh->dst_len = static_cast<uint8_t>(rule.destination->prefix_len());
    mnl_attr_put(nlh, FRA_DST, dst.size(), dst.data());
  }
}

// A selector other than the destination, which RoutingRule does not model.
bool selects_by_more(const fib_rule_hdr& frh, std::span<const nlattr* const> tb) {
  if (frh.src_len != 0 || frh.tos != 0 || (frh.flags & FIB_RULE_INVERT) != 0) return true;
  for (int type : {FRA_SRC, FRA_IIFNAME, FRA_OIFNAME, FRA_FWMARK, FRA_FWMASK, FRA_L3MDEV, FRA_UID_RANGE, FRA_IP_PROTO,
                   FRA_SPORT_RANGE, FRA_DPORT_RANGE, FRA_TUN_ID, FRA_FLOW})
    if (tb[static_cast<size_t>(type)]) return true;
  return false;
}

void check_family(const RoutingRule& rule, const std::string& what) {
  if (rule.family != AF_INET && rule.family != AF_INET6) throw kpath::Error(what + ": family is neither IPv4 nor IPv6");
  if (rule.destination && rule.destination->ip().family() != rule.family)
    throw kpath::Error(what + ": the destination is of the other family");
}

}  // namespace

std::string RoutingRule::str() const {
  std::string text = "pref " + std::to_string(priority);
  if (destination) text += " to " + destination->str();
  return text + " lookup " + std::to_string(table);
}

std::vector<RoutingRule> Rtnl::list_rules(int family) {
  nlmsghdr* nlh = nl_.begin(RTM_GETRULE, 0);
  auto* req = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
  req->family = static_cast<uint8_t>(family);
  std::vector<RoutingRule> out;
  nl_.dump(
      nlh,
      [&](const nlmsghdr* reply) {
        if (reply->nlmsg_type != RTM_NEWRULE) return;
        const auto* frh = detail::header_of<fib_rule_hdr>(reply);
        if (!frh || frh->family != family || frh->action != FR_ACT_TO_TBL) return;
        std::array<const nlattr*, FRA_MAX + 1> tb{};
        detail::parse_attrs(reply, sizeof(fib_rule_hdr), tb);
        if (selects_by_more(*frh, tb)) return;
        RoutingRule rule;
        rule.family = family;
        // The kernel leaves FRA_PRIORITY out for priority 0.
        rule.priority = detail::read_u32(tb[FRA_PRIORITY]).value_or(0);
        rule.table = detail::read_u32(tb[FRA_TABLE]).value_or(frh->table);
        if (auto dst = detail::read_ip(tb[FRA_DST], family)) rule.destination = Cidr(*dst, frh->dst_len);
        out.push_back(rule);
      },
      "list routing rules in " + label_);
  return out;
}

void Rtnl::add_rule(const RoutingRule& rule) {
  const std::string what = "add routing rule " + rule.str() + " in " + label_;
  check_family(rule, what);
  nlmsghdr* nlh = nl_.begin(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
  put_rule(nlh, rule);
  nl_.ack(nlh, what);
}

void Rtnl::delete_rule(const RoutingRule& rule) {
  const std::string what = "delete routing rule " + rule.str() + " in " + label_;
  check_family(rule, what);
  nlmsghdr* nlh = nl_.begin(RTM_DELRULE, 0);
  put_rule(nlh, rule);
  nl_.ack(nlh, what);
}

std::vector<RoutingRule> list_rules(const Namespace& ns, int family) { return Rtnl(ns).list_rules(family); }
void add_rule(const Namespace& ns, const RoutingRule& rule) { Rtnl(ns).add_rule(rule); }
void delete_rule(const Namespace& ns, const RoutingRule& rule) { Rtnl(ns).delete_rule(rule); }

}  // namespace netns
