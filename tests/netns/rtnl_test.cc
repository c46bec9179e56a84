#include "netns/rtnl.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "base/error.h"
#include "helpers.h"
#include "netns/link.h"
#include "support/privileges.h"

namespace {

using kpath::Cidr;
using kpath::Ip;
using kpath_test::contains;
using netns::Namespace;
using netns::Rtnl;
using testing::Contains;
using testing::HasSubstr;
using testing::UnorderedElementsAre;

// Sockets this process holds open now.
int open_sockets() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(dir)) {
    char target[64] = {};
    std::string path = std::string("/proc/self/fd/") + e->d_name;
    if (::readlink(path.c_str(), target, sizeof target - 1) > 0 && std::string_view(target).starts_with("socket:"))
      ++count;
  }
  ::closedir(dir);
  return count;
}

TEST(Rtnl, OneHandlePerNamespaceBuildsAWorkingPair) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace a = Namespace::create(), b = Namespace::create();
  const Ip a_ip = Ip::from("10.0.0.1"), b_ip = Ip::from("10.0.0.2"), far = Ip::from("10.9.0.1");
  const int sockets_before = open_sockets();
  Rtnl ra(a), rb(b);
  ra.create_veth("a0", b, "b0");
  ra.set_up("a0");
  rb.set_up("b0");
  ra.add_address("a0", Cidr(a_ip, 24));
  rb.add_address("b0", Cidr(b_ip, 24));
  rb.add_address("lo", Cidr(far, 32));
  ra.add_route({Cidr::from("10.9.0.0/16"), b_ip, "a0", false});
  ra.wait_until_up({"a0"});
  rb.wait_until_up({"b0"});
  // One socket each, held for the whole configuration.
  EXPECT_EQ(open_sockets(), sockets_before + 2);

  EXPECT_THAT(ra.list_links(), UnorderedElementsAre("lo", "a0"));
  EXPECT_THAT(rb.list_addresses("b0"), Contains(Cidr(b_ip, 24)));
  EXPECT_GT(ra.link_index("a0"), 1);
  // The route through the handle is used: a reaches b's far address.
  rb.set_up("lo");
  auto rx = kpath_test::socket_in(b, SOCK_DGRAM, far, 6000);
  auto tx = kpath_test::socket_in(a, SOCK_DGRAM, a_ip, 0);
  ASSERT_GE(rx.get(), 0);
  ASSERT_GE(tx.get(), 0);
  EXPECT_EQ(kpath_test::deliver_udp(tx.get(), far, 6000, "routed", rx.get()), "routed");
}

TEST(Rtnl, TheHandleKeepsItsNamespaceAlive) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  const std::string id = std::to_string(ns.id());
  Rtnl rt(ns);
  ns = Namespace();  // the namespace's fd is closed; the socket still holds it
  rt.create_bridge("br0");
  EXPECT_THAT(rt.list_links(), UnorderedElementsAre("lo", "br0"));
  EXPECT_EQ(rt.label(), "namespace net:[" + id + "]");
}

TEST(Rtnl, ActsInItsNamespaceFromAnyThread) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  Rtnl rt(ns);
  std::thread([&] { rt.create_bridge("kpath-br9"); }).join();
  EXPECT_TRUE(contains(netns::list_links(ns), "kpath-br9"));
  EXPECT_FALSE(contains(netns::list_links(Namespace::current()), "kpath-br9"));
}

TEST(Rtnl, ErrorsNameTheOperationAndTheNamespace) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  Rtnl rt(ns);
  try {
    rt.add_route({Cidr::from("10.9.0.0/16"), std::nullopt, "nosuch0", false});
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("find link nosuch0 in " + rt.label()));
  }
  // The handle is still good after a refused request.
  rt.add_address("lo", Cidr::from("10.7.0.1/32"));
  EXPECT_THAT(rt.list_addresses("lo"), Contains(Cidr::from("10.7.0.1/32")));
}

}  // namespace
