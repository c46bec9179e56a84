#include "netns/netfilter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>

#include "helpers.h"
#include "base/error.h"
#include "base/errno.h"
#include "netns/netlink.h"
#include "netns/process.h"
#include "support/privileges.h"

namespace {

using kpath::Ip;
using kpath_test::Pair;
using netns::ConntrackEntry;
using netns::Namespace;
using testing::HasSubstr;

bool have_nft() { return ::access("/usr/sbin/nft", X_OK) == 0 || ::access("/sbin/nft", X_OK) == 0; }

bool run_nft(const Namespace& ns, const std::string& script) {
  if (!have_nft()) return false;
  auto r = netns::run_process(ns, {"nft", "-f", "-"}, script);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0;
}

// Conntrack only tracks a namespace once some rule needs it; an nft table
// with a "ct state" match in a's output hook makes it track a's flows.
bool enable_conntrack(const Namespace& ns) {
  return run_nft(ns,
                 "table inet kpath_test {\n"
                 "  chain out {\n"
                 "    type filter hook output priority 0;\n"
                 "    ct state new accept\n"
                 "  }\n"
                 "}\n");
}

// Like enable_conntrack, but a's outgoing flows are tracked in zone 7 (set
// before conntrack sees the packet, at raw priority).
bool enable_conntrack_in_zone_7(const Namespace& ns) {
  return run_nft(ns,
                 "table inet kpath_test {\n"
                 "  chain zone {\n"
                 "    type filter hook output priority raw;\n"
                 "    ct zone set 7\n"
                 "  }\n"
                 "  chain out {\n"
                 "    type filter hook output priority 0;\n"
                 "    ct state new accept\n"
                 "  }\n"
                 "}\n");
}

const ConntrackEntry* find_flow(const std::vector<ConntrackEntry>& entries, int protocol, uint16_t dport) {
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const ConntrackEntry& e) { return e.protocol == protocol && e.orig_dport == dport; });
  return it == entries.end() ? nullptr : &*it;
}

long count_flows(const std::vector<ConntrackEntry>& entries, const Ip& dst, uint16_t dport) {
  return std::count_if(entries.begin(), entries.end(), [&](const ConntrackEntry& e) {
    return e.protocol == IPPROTO_UDP && e.orig_dst == dst && e.orig_dport == dport;
  });
}

// Sends one datagram from a (source port sport) to b's dst:dport.
void udp_flow(Pair& p, const Ip& src, uint16_t sport, const Ip& dst, uint16_t dport) {
  auto tx = kpath_test::socket_in(p.a, SOCK_DGRAM, src, sport);
  ASSERT_GE(tx.get(), 0);
  ASSERT_EQ(kpath_test::send_udp(tx.get(), dst, dport, "flow"), 0);
}

TEST(Conntrack, DumpShowsAUdpFlowAndDeleteRemovesIt) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  if (!enable_conntrack(p.a)) GTEST_SKIP() << "nft is needed to switch conntrack on";
  EXPECT_TRUE(netns::conntrack_dump(p.a).empty());
  auto rx = kpath_test::socket_in(p.b, SOCK_DGRAM, p.b_ip, 5300);
  auto tx = kpath_test::socket_in(p.a, SOCK_DGRAM, p.a_ip, 40001);
  ASSERT_EQ(kpath_test::deliver_udp(tx.get(), p.b_ip, 5300, "flow", rx.get()), "flow");

  auto entries = netns::conntrack_dump(p.a);
  ASSERT_EQ(count_flows(entries, p.b_ip, 5300), 1);
  auto it = std::find_if(entries.begin(), entries.end(), [&](const ConntrackEntry& e) { return e.orig_dport == 5300; });
  EXPECT_EQ(it->orig_src, p.a_ip);
  EXPECT_EQ(it->orig_sport, 40001);
  EXPECT_EQ(it->reply_src, p.b_ip);
  EXPECT_EQ(it->reply_dst, p.a_ip);
  EXPECT_EQ(it->reply_sport, 5300);
  EXPECT_EQ(it->reply_dport, 40001);
  // Conntrack of b is not involved: it has no rule needing it.
  EXPECT_TRUE(netns::conntrack_dump(p.b).empty());

  EXPECT_EQ(netns::conntrack_delete(p.a, IPPROTO_UDP, p.b_ip, 5301), 0);  // other port
  EXPECT_EQ(netns::conntrack_delete(p.a, IPPROTO_TCP, p.b_ip), 0);        // other protocol
  EXPECT_EQ(netns::conntrack_delete(p.a, IPPROTO_UDP, p.b_ip, 5300), 1);
  EXPECT_EQ(count_flows(netns::conntrack_dump(p.a), p.b_ip, 5300), 0);
}

TEST(Conntrack, Ipv6FlowsAndDeleteWithoutPort) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  if (!enable_conntrack(p.a)) GTEST_SKIP() << "nft is needed to switch conntrack on";
  udp_flow(p, p.a_ip6, 40002, p.b_ip6, 5301);
  udp_flow(p, p.a_ip6, 40003, p.b_ip6, 5302);
  udp_flow(p, p.a_ip, 40004, p.b_ip, 5303);
  auto entries = netns::conntrack_dump(p.a);
  EXPECT_EQ(count_flows(entries, p.b_ip6, 5301), 1);
  EXPECT_EQ(count_flows(entries, p.b_ip6, 5302), 1);
  EXPECT_EQ(count_flows(entries, p.b_ip, 5303), 1);
  EXPECT_EQ(netns::conntrack_delete(p.a, IPPROTO_UDP, p.b_ip6), 2);
  entries = netns::conntrack_dump(p.a);
  EXPECT_EQ(count_flows(entries, p.b_ip6, 5301) + count_flows(entries, p.b_ip6, 5302), 0);
  EXPECT_EQ(count_flows(entries, p.b_ip, 5303), 1);
}

// A real TCP connection over IPv6: the dump carries both tuples exactly, and
// delete (which sends the original tuple back) removes that entry only.
TEST(Conntrack, TcpOverIpv6IsDumpedWithItsTuplesAndDeleted) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  if (!enable_conntrack(p.a)) GTEST_SKIP() << "nft is needed to switch conntrack on";
  auto server = kpath_test::socket_in(p.b, SOCK_STREAM, p.b_ip6, 5400);
  ASSERT_GE(server.get(), 0);
  ASSERT_EQ(::listen(server.get(), 4), 0);
  auto client = kpath_test::socket_in(p.a, SOCK_STREAM, p.a_ip6, 40010);
  ASSERT_GE(client.get(), 0);
  socklen_t len = 0;
  sockaddr_storage ss = kpath_test::sockaddr_of(p.b_ip6, 5400, len);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << kpath::error_text(errno);
  udp_flow(p, p.a_ip6, 40011, p.b_ip6, 5400);  // same address and port, other protocol

  auto entries = netns::conntrack_dump(p.a);
  const ConntrackEntry* tcp = find_flow(entries, IPPROTO_TCP, 5400);
  ASSERT_NE(tcp, nullptr);
  EXPECT_EQ(tcp->orig_src, p.a_ip6);
  EXPECT_EQ(tcp->orig_dst, p.b_ip6);
  EXPECT_EQ(tcp->orig_sport, 40010);
  EXPECT_EQ(tcp->reply_src, p.b_ip6);
  EXPECT_EQ(tcp->reply_dst, p.a_ip6);
  EXPECT_EQ(tcp->reply_sport, 5400);
  EXPECT_EQ(tcp->reply_dport, 40010);
  ASSERT_NE(find_flow(entries, IPPROTO_UDP, 5400), nullptr);

  EXPECT_EQ(netns::conntrack_delete(p.a, IPPROTO_TCP, p.b_ip6, 5400), 1);
  entries = netns::conntrack_dump(p.a);
  EXPECT_EQ(find_flow(entries, IPPROTO_TCP, 5400), nullptr);
  EXPECT_NE(find_flow(entries, IPPROTO_UDP, 5400), nullptr);
}

// An entry outside the default zone is only found again with its zone, which
// the dump must have read (CTA_ZONE) for delete to send it back.
TEST(Conntrack, EntryInAZoneIsDeleted) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  if (!enable_conntrack_in_zone_7(p.a)) GTEST_SKIP() << "nft is needed to switch conntrack on";
  udp_flow(p, p.a_ip, 40020, p.b_ip, 5500);
  ASSERT_EQ(count_flows(netns::conntrack_dump(p.a), p.b_ip, 5500), 1);
  EXPECT_EQ(netns::conntrack_delete(p.a, IPPROTO_UDP, p.b_ip, 5500), 1);
  EXPECT_EQ(count_flows(netns::conntrack_dump(p.a), p.b_ip, 5500), 0);
}

TEST(Conntrack, FlushEmptiesTheTable) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  if (!enable_conntrack(p.a)) GTEST_SKIP() << "nft is needed to switch conntrack on";
  udp_flow(p, p.a_ip, 40005, p.b_ip, 5304);
  udp_flow(p, p.a_ip6, 40006, p.b_ip6, 5305);
  ASSERT_GE(netns::conntrack_dump(p.a).size(), 2u);
  netns::conntrack_flush(p.a);
  EXPECT_TRUE(netns::conntrack_dump(p.a).empty());
  EXPECT_NO_THROW(netns::conntrack_flush(p.a));  // flushing an empty table is fine
}

TEST(Nfacct, SecondAddOfTheSameNameIsRefused) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  netns::nfacct_add(ns, "kpath-packets");
  try {
    netns::nfacct_add(ns, "kpath-packets");
    FAIL() << "the kernel accepted a duplicate nfacct counter";
  } catch (const netns::NetlinkError& e) {
    EXPECT_EQ(e.code(), EBUSY);
    EXPECT_THAT(e.what(), HasSubstr("create nfacct counter kpath-packets in namespace net:["));
    EXPECT_THAT(e.what(), HasSubstr("already exists"));
  }
  // Counters are per namespace: the same name is free elsewhere.
  Namespace other = Namespace::create();
  EXPECT_NO_THROW(netns::nfacct_add(other, "kpath-packets"));
}

}  // namespace
