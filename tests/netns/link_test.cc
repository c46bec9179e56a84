#include "netns/link.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <algorithm>

#include "helpers.h"
#include "base/error.h"
#include "netns/netlink.h"
#include "support/privileges.h"

namespace {

using kpath_test::contains;
using netns::Namespace;
using testing::HasSubstr;
using testing::UnorderedElementsAre;

struct LinkState {
  unsigned flags = 0;
  int master = 0;
};

// Reads a link's flags and master straight from the kernel.
LinkState link_state(const Namespace& ns, const std::string& name) {
  netns::Netlink nl(ns, NETLINK_ROUTE);
  nlmsghdr* nlh = nl.begin(RTM_GETLINK, 0);
  mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg));
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  LinkState state;
  nl.query(
      nlh,
      [&](const nlmsghdr* reply) {
        state.flags = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(reply))->ifi_flags;
        mnl_attr_parse(
            reply, sizeof(ifinfomsg),
            [](const nlattr* attr, void* data) {
              if (mnl_attr_get_type(attr) == IFLA_MASTER)
                *static_cast<int*>(data) = static_cast<int>(mnl_attr_get_u32(attr));
              return MNL_CB_OK;
            },
            &state.master);
      },
      "query " + name);
  return state;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(Link, VethEndsLiveInTheirNamespacesAndNeverInTheRoot) {
  KPATH_REQUIRE_NET_ADMIN();
  const Namespace root = Namespace::current();
  const auto root_before = sorted(netns::list_links(root));
  {
    Namespace a = Namespace::create();
    Namespace b = Namespace::create();
    netns::create_veth(a, "node0-pod1", b, "eth0");
    EXPECT_THAT(netns::list_links(a), UnorderedElementsAre("lo", "node0-pod1"));
    EXPECT_THAT(netns::list_links(b), UnorderedElementsAre("lo", "eth0"));
    const auto root_during = sorted(netns::list_links(root));
    EXPECT_EQ(root_during, root_before);
    EXPECT_FALSE(contains(root_during, "node0-pod1"));
    EXPECT_GT(netns::link_index(a, "node0-pod1"), 1);
    EXPECT_GT(netns::link_index(b, "eth0"), 1);
  }
  EXPECT_EQ(sorted(netns::list_links(root)), root_before);
}

TEST(Link, VethWithBothEndsInOneNamespace) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  netns::create_veth(ns, "v0", ns, "v1");
  EXPECT_THAT(netns::list_links(ns), UnorderedElementsAre("lo", "v0", "v1"));
}

TEST(Link, DuplicateNameIsAKernelErrorNamingTheOperation) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace a = Namespace::create();
  Namespace b = Namespace::create();
  netns::create_veth(a, "dup0", b, "peer0");
  try {
    netns::create_veth(a, "dup0", b, "peer1");
    FAIL() << "second veth with the same name was accepted";
  } catch (const netns::NetlinkError& e) {
    EXPECT_EQ(e.code(), EEXIST);
    EXPECT_THAT(e.what(), HasSubstr("create veth dup0 in namespace net:["));
    EXPECT_THAT(e.what(), HasSubstr("File exists"));
  }
  // The half-made request left nothing behind in b.
  EXPECT_THAT(netns::list_links(b), UnorderedElementsAre("lo", "peer0"));
}

TEST(Link, TooLongNameCarriesTheKernelsExtendedAck) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  try {
    netns::create_bridge(ns, "a-name-much-longer-than-ifnamsiz");
    FAIL() << "overlong name accepted";
  } catch (const netns::NetlinkError& e) {
    EXPECT_THAT(e.what(), HasSubstr("create bridge a-name-much-longer-than-ifnamsiz"));
    EXPECT_THAT(e.what(), HasSubstr("(kernel: "));
  }
}

TEST(Link, SetUpRaisesTheUpFlagOnly) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  EXPECT_EQ(link_state(ns, "lo").flags & IFF_UP, 0u);
  netns::set_up(ns, "lo");
  EXPECT_NE(link_state(ns, "lo").flags & IFF_UP, 0u);
  EXPECT_THROW(netns::set_up(ns, "missing0"), kpath::Error);
}

TEST(Link, BridgeAndMaster) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace node = Namespace::create();
  Namespace pod = Namespace::create();
  netns::create_bridge(node, "br0");
  netns::create_veth(node, "veth-pod", pod, "eth0");
  netns::set_master(node, "veth-pod", "br0");
  EXPECT_EQ(link_state(node, "veth-pod").master, netns::link_index(node, "br0"));
  EXPECT_THAT(netns::list_links(node), UnorderedElementsAre("lo", "br0", "veth-pod"));
}

TEST(Link, BridgeForwardsBetweenTwoPods) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace node = Namespace::create();
  Namespace pod1 = Namespace::create();
  Namespace pod2 = Namespace::create();
  netns::create_bridge(node, "cbr0");
  netns::set_up(node, "cbr0");
  const kpath::Ip ip1 = kpath::Ip::from("10.1.0.11"), ip2 = kpath::Ip::from("10.1.0.12");
  netns::create_veth(node, "veth1", pod1, "eth0");
  netns::create_veth(node, "veth2", pod2, "eth0");
  for (const char* port : {"veth1", "veth2"}) {
    netns::set_master(node, port, "cbr0");
    netns::set_up(node, port);
  }
  netns::set_up(pod1, "eth0");
  netns::set_up(pod2, "eth0");
  netns::add_address(pod1, "eth0", kpath::Cidr(ip1, 24));
  netns::add_address(pod2, "eth0", kpath::Cidr(ip2, 24));

  auto rx = kpath_test::socket_in(pod2, SOCK_DGRAM, ip2, 7000);
  auto tx = kpath_test::socket_in(pod1, SOCK_DGRAM, ip1, 0);
  ASSERT_GE(rx.get(), 0);
  ASSERT_GE(tx.get(), 0);
  EXPECT_EQ(kpath_test::deliver_udp(tx.get(), ip2, 7000, "over the bridge", rx.get()), "over the bridge");
}

TEST(Link, LinkIndexOfAMissingLinkNamesIt) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  EXPECT_EQ(netns::link_index(ns, "lo"), 1);
  try {
    netns::link_index(ns, "nosuch0");
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("find link nosuch0 in namespace net:["));
    EXPECT_THAT(e.what(), HasSubstr("No such device"));
  }
}

}  // namespace
