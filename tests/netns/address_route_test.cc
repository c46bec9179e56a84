#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/rtnetlink.h>

#include "helpers.h"
#include "netns/address.h"
#include "base/error.h"
#include "base/errno.h"
#include "netns/netlink.h"
#include "netns/route.h"
#include "support/privileges.h"

namespace {

using kpath::Cidr;
using kpath::Ip;
using kpath_test::Pair;
using netns::Namespace;
using testing::HasSubstr;
using testing::UnorderedElementsAre;

TEST(Address, AddedAddressesAreListed) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  EXPECT_THAT(netns::list_addresses(p.a, "a0"),
              testing::IsSupersetOf({Cidr::from("10.0.0.1/24"), Cidr::from("fd00::1/64")}));
  // A fresh namespace has no addresses until one is added.
  Namespace ns = Namespace::create();
  netns::add_address(ns, "lo", Cidr::from("127.0.0.1/8"));
  EXPECT_THAT(netns::list_addresses(ns, "lo"), UnorderedElementsAre(Cidr::from("127.0.0.1/8")));
}

TEST(Address, UdpCrossesTheVethOverIpv4AndIpv6) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  for (auto [from, to] : {std::pair{p.a_ip, p.b_ip}, std::pair{p.a_ip6, p.b_ip6}}) {
    auto rx = kpath_test::socket_in(p.b, SOCK_DGRAM, to, 5353);
    auto tx = kpath_test::socket_in(p.a, SOCK_DGRAM, from, 0);
    ASSERT_GE(rx.get(), 0) << to.str();
    ASSERT_GE(tx.get(), 0) << from.str();
    EXPECT_EQ(kpath_test::deliver_udp(tx.get(), to, 5353, "hello " + to.str(), rx.get()), "hello " + to.str());
  }
}

TEST(Address, DuplicateAddressNamesTheOperation) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  try {
    netns::add_address(p.a, "a0", Cidr::from("10.0.0.1/24"));
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("add address 10.0.0.1/24 to a0 in namespace net:["));
    EXPECT_THAT(e.what(), HasSubstr("File exists"));
  }
}

TEST(Netlink, KernelErrorCarriesTheExtendedAckMessage) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  // An address for an ifindex that does not exist: the kernel says why in extack.
  netns::Netlink nl(ns, NETLINK_ROUTE);
  nlmsghdr* nlh = nl.begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 24;
  ifa->ifa_index = 4242;
  const Ip ip = Ip::from("10.9.9.9");
  mnl_attr_put(nlh, IFA_LOCAL, 4, ip.data());
  try {
    nl.ack(nlh, "add address 10.9.9.9/24 to ifindex 4242");
    FAIL();
  } catch (const netns::NetlinkError& e) {
    EXPECT_EQ(e.code(), ENODEV);
    EXPECT_THAT(e.what(), HasSubstr("add address 10.9.9.9/24 to ifindex 4242: No such device"));
    EXPECT_THAT(e.what(), HasSubstr("(kernel: ipv4: Device not found)"));
  }
  // The socket is still usable after an error.
  EXPECT_EQ(netns::list_addresses(ns, "lo").size(), 0u);
}

TEST(Address, MissingLinkNamesTheLink) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  try {
    netns::add_address(ns, "ghost0", Cidr::from("10.0.0.1/24"));
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("ghost0"));
  }
}

TEST(Route, RouteThroughAGatewayMakesAPrefixReachable) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  // b owns 192.168.5.1 on lo; a reaches it only once routed via b.
  auto flow = kpath_test::udp_to_loopback_of_b(p, "192.168.5.1", 8080);
  ASSERT_TRUE(flow.ready());
  EXPECT_EQ(kpath_test::send_udp(flow.tx.get(), flow.service, flow.port, "x"), ENETUNREACH);

  netns::add_route(p.a, {Cidr::from("192.168.5.0/24"), p.b_ip, "a0", false});
  EXPECT_EQ(kpath_test::deliver_udp(flow.tx.get(), flow.service, flow.port, "routed", flow.rx.get()), "routed");
}

TEST(Route, DefaultIpv6GatewayOnlinkAndDeviceRoutes) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  netns::set_up(p.b, "lo");
  netns::add_address(p.b, "lo", Cidr::from("172.20.0.1/32"));
  netns::add_address(p.b, "lo", Cidr::from("172.21.0.1/32"));
  netns::add_address(p.b, "lo", Cidr::from("fd99::1/128"));
  netns::add_route(p.a, {Cidr::from("0.0.0.0/0"), p.b_ip, "a0", false});
  // A device route: a ARPs for 172.21.0.1 on a0 and b answers (it owns it).
  netns::add_route(p.a, {Cidr::from("172.21.0.0/24"), std::nullopt, "a0", false});
  netns::add_route(p.a, {Cidr::from("fd99::/64"), p.b_ip6, "", false});
  // onlink: the gateway is on no connected prefix, yet the kernel takes it.
  EXPECT_NO_THROW(netns::add_route(p.a, {Cidr::from("10.200.0.0/16"), Ip::from("10.201.0.1"), "a0", true}));

  for (const char* target : {"172.20.0.1", "172.21.0.1", "fd99::1"}) {
    const Ip to = Ip::from(target);
    auto rx = kpath_test::socket_in(p.b, SOCK_DGRAM, to, 9000);
    auto tx = kpath_test::socket_in(p.a, SOCK_DGRAM, to.is_v4() ? p.a_ip : p.a_ip6, 0);
    ASSERT_GE(rx.get(), 0) << target;
    ASSERT_GE(tx.get(), 0) << target;
    EXPECT_EQ(kpath_test::deliver_udp(tx.get(), to, 9000, target, rx.get()), target) << target;
  }
}

TEST(Route, UnreachableGatewayCarriesTheKernelsReason) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  try {
    netns::add_route(p.a, {Cidr::from("10.50.0.0/16"), Ip::from("172.16.0.1"), "a0", false});
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("add route 10.50.0.0/16 via 172.16.0.1 dev a0 in namespace net:["));
    EXPECT_THAT(e.what(), HasSubstr("(kernel: "));
  }
}

TEST(Route, TcpConnectsAcrossNamespaces) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  auto server = kpath_test::socket_in(p.b, SOCK_STREAM, p.b_ip, 8443);
  ASSERT_GE(server.get(), 0);
  ASSERT_EQ(::listen(server.get(), 4), 0);
  auto client = kpath_test::socket_in(p.a, SOCK_STREAM, p.a_ip, 0);
  socklen_t len = 0;
  sockaddr_storage ss = kpath_test::sockaddr_of(p.b_ip, 8443, len);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << kpath::error_text(errno);
  kpath_test::Fd accepted(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_GE(accepted.get(), 0);
  ASSERT_EQ(::send(client.get(), "ping", 4, 0), 4);
  char buf[8] = {};
  ASSERT_EQ(::recv(accepted.get(), buf, sizeof buf, 0), 4);
  EXPECT_STREQ(buf, "ping");
}

}  // namespace
