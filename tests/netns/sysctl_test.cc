#include "netns/sysctl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/error.h"
#include "support/privileges.h"

namespace {

using netns::Namespace;
using testing::HasSubstr;

TEST(Sysctl, SetGetRoundTripsInsideTheNamespaceOnly) {
  KPATH_REQUIRE_NET_ADMIN();
  const Namespace root = Namespace::current();
  const std::string root_forward = netns::get_sysctl(root, "net/ipv4/ip_forward");
  const std::string root_ports = netns::get_sysctl(root, "net/ipv4/ip_local_port_range");
  Namespace ns = Namespace::create();
  const std::string flipped = root_forward == "1" ? "0" : "1";
  netns::set_sysctl(ns, "net/ipv4/ip_forward", flipped);
  EXPECT_EQ(netns::get_sysctl(ns, "net/ipv4/ip_forward"), flipped);
  netns::set_sysctl(ns, "net/ipv4/ip_local_port_range", "20000\t20100");
  EXPECT_EQ(netns::get_sysctl(ns, "net/ipv4/ip_local_port_range"), "20000\t20100");
  EXPECT_EQ(netns::get_sysctl(root, "net/ipv4/ip_forward"), root_forward);
  EXPECT_EQ(netns::get_sysctl(root, "net/ipv4/ip_local_port_range"), root_ports);
}

TEST(Sysctl, PerInterfaceKeysOfTheNamespace) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  netns::set_sysctl(ns, "net/ipv4/conf/lo/route_localnet", "1");
  EXPECT_EQ(netns::get_sysctl(ns, "net/ipv4/conf/lo/route_localnet"), "1");
  EXPECT_EQ(netns::get_sysctl(Namespace::current(), "net/ipv4/conf/lo/route_localnet"), "0");
}

TEST(Sysctl, ErrorsNameTheKey) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  try {
    netns::set_sysctl(ns, "net/ipv4/no_such_knob", "1");
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("set sysctl net/ipv4/no_such_knob=1 in namespace net:["));
    EXPECT_THAT(e.what(), HasSubstr("No such file or directory"));
  }
  EXPECT_THROW(netns::get_sysctl(ns, "../etc/passwd"), kpath::Error);
  EXPECT_THROW(netns::get_sysctl(ns, "/etc/passwd"), kpath::Error);
}

}  // namespace
