// nf_tables rules over nfnetlink (NETLINK_NETFILTER, NFNL_SUBSYS_NFTABLES):
// the packet counter of every rule that has one, read in-process. Rules that
// iptables-nft wrote are nf_tables rules too (each carries a counter), so
// one read covers both tools: a dump of the chains, then one of each chain's
// rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "netns/namespace.h"

namespace netns {

struct NftRuleCounter {
  std::string table;  // "ip nat", "ip kube-proxy": family and name, as nft lists them
  std::string chain;
  uint64_t handle = 0;
  int position = 0;  // the rule's place in its chain, from 0
  uint64_t packets = 0;
};

// Every rule with a counter expression, in every table, in chain order.
std::vector<NftRuleCounter> nft_rule_counters(const Namespace& ns);

}  // namespace netns
