#include "netns/namespace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "base/error.h"
#include "netns/link.h"
#include "support/privileges.h"

namespace {

using netns::Namespace;
using testing::ElementsAre;

TEST(Namespace, CreateMakesANewNamespaceAndLeavesTheCallerWhereItWas) {
  KPATH_REQUIRE_NET_ADMIN();
  const unsigned long root = Namespace::current().id();
  Namespace ns = Namespace::create();
  ASSERT_TRUE(ns.valid());
  EXPECT_NE(ns.id(), 0u);
  EXPECT_NE(ns.id(), root);
  EXPECT_EQ(Namespace::current().id(), root);  // the calling thread never moved
  Namespace other = Namespace::create();
  EXPECT_NE(other.id(), ns.id());
}

TEST(Namespace, FreshNamespaceHoldsOnlyLoopback) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  EXPECT_THAT(netns::list_links(ns), ElementsAre("lo"));
}

TEST(Namespace, OpenByPathIsTheSameNamespace) {
  KPATH_REQUIRE_NET_ADMIN();
  EXPECT_EQ(Namespace::open("/proc/self/ns/net").id(), Namespace::current().id());
  EXPECT_THROW(Namespace::open("/nonexistent/ns"), kpath::Error);
}

TEST(Namespace, RunExecutesInsideAndReturnsTheResult) {
  KPATH_REQUIRE_NET_ADMIN();
  const unsigned long root = Namespace::current().id();
  Namespace ns = Namespace::create();
  EXPECT_EQ(ns.run([] { return Namespace::current().id(); }), ns.id());
  bool ran = false;
  ns.run([&] { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_EQ(Namespace::current().id(), root);
}

TEST(Namespace, RunPropagatesExceptions) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  EXPECT_THROW(ns.run([]() -> int { throw std::logic_error("boom"); }), std::logic_error);
}

TEST(Namespace, MoveTransfersOwnership) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace a = Namespace::create();
  const unsigned long id = a.id();
  Namespace b = std::move(a);
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.id(), id);
  Namespace c;
  c = std::move(b);
  EXPECT_EQ(c.id(), id);
}

TEST(Namespace, PinKeepsTheNamespaceAliveAfterItsFdClosesAndUnpinRemovesIt) {
  KPATH_REQUIRE_NET_ADMIN();
  const std::string dir = "/tmp/kpath-netns-test-" + std::to_string(::getpid());
  const std::string path = dir + "/sub/pinned";
  unsigned long id = 0;
  {
    Namespace ns = Namespace::create();
    id = ns.id();
    ns.pin(path);
    EXPECT_THROW(ns.pin(path), kpath::Error);  // an existing pin is not stacked
  }
  {
    Namespace again = Namespace::open(path);
    EXPECT_EQ(again.id(), id);
    EXPECT_THAT(netns::list_links(again), ElementsAre("lo"));
  }
  Namespace::unpin(path);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_NO_THROW(Namespace::unpin(path));  // missing path is fine
  std::filesystem::remove_all(dir);
}

}  // namespace
