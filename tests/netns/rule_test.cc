// Policy routing rules and routes in tables other than main: a rule sends a
// destination to its own table, and traffic follows the route found there.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/rtnetlink.h>

#include "base/error.h"
#include "helpers.h"
#include "netns/address.h"
#include "netns/link.h"
#include "netns/netlink.h"
#include "netns/process.h"
#include "netns/route.h"
#include "netns/rule.h"
#include "support/privileges.h"

namespace {

using kpath::Cidr;
using kpath::Ip;
using kpath_test::Pair;
using netns::Namespace;
using netns::RoutingRule;
using testing::Contains;
using testing::HasSubstr;
using testing::Not;

constexpr uint32_t kTable = 1000;  // beyond the header's one byte: carried in FRA_TABLE / RTA_TABLE

TEST(Rule, AFreshNamespaceHasTheKernelsThreeDefaultRules) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  const auto rules = netns::list_rules(ns, AF_INET);
  EXPECT_EQ(rules, (std::vector<RoutingRule>{{AF_INET, 0, std::nullopt, RT_TABLE_LOCAL},
                                             {AF_INET, 32766, std::nullopt, RT_TABLE_MAIN},
                                             {AF_INET, 32767, std::nullopt, RT_TABLE_DEFAULT}}));
  EXPECT_THAT(netns::list_rules(ns, AF_INET6), Contains(RoutingRule{AF_INET6, 32766, std::nullopt, RT_TABLE_MAIN}));
}

TEST(Rule, ARuleRoutesADestinationThroughItsTable) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  auto flow = kpath_test::udp_to_loopback_of_b(p, "192.168.7.1", 8080);
  ASSERT_TRUE(flow.ready());

  // The route alone, in a table no rule consults, changes nothing.
  netns::Route route{Cidr::from("192.168.7.0/24"), p.b_ip, "a0", false};
  route.table = kTable;
  netns::add_route(p.a, route);
  EXPECT_EQ(kpath_test::send_udp(flow.tx.get(), flow.service, flow.port, "x"), ENETUNREACH);

  const RoutingRule rule{AF_INET, 60, Cidr::from("192.168.7.0/24"), kTable};
  netns::add_rule(p.a, rule);
  EXPECT_THAT(netns::list_rules(p.a, AF_INET), Contains(rule));
  EXPECT_THAT(netns::run_process(p.a, {"ip", "-4", "rule", "show", "pref", "60"}).out,
              HasSubstr("60:\tfrom all to 192.168.7.0/24 lookup 1000"));
  EXPECT_EQ(kpath_test::deliver_udp(flow.tx.get(), flow.service, flow.port, "ruled", flow.rx.get()), "ruled");

  netns::delete_rule(p.a, rule);
  EXPECT_THAT(netns::list_rules(p.a, AF_INET), Not(Contains(rule)));
  EXPECT_EQ(kpath_test::send_udp(flow.tx.get(), flow.service, flow.port, "x"), ENETUNREACH);
}

TEST(Rule, ReplaceRouteMovesTheGatewayAndAddRouteRefusesADuplicate) {
  KPATH_REQUIRE_NET_ADMIN();
  Pair p;
  netns::Route route{Cidr::from("10.60.0.0/16"), Ip::from("10.61.0.1"), "a0", true};
  route.table = kTable;
  netns::replace_route(p.a, route);  // nothing to replace: added
  route.gateway = Ip::from("10.61.0.2");
  netns::replace_route(p.a, route);
  const std::string shown = netns::run_process(p.a, {"ip", "-4", "route", "show", "table", "1000"}).out;
  EXPECT_THAT(shown, HasSubstr("10.60.0.0/16 via 10.61.0.2 dev a0 onlink"));
  EXPECT_THAT(shown, Not(HasSubstr("10.61.0.1")));
  try {
    netns::add_route(p.a, route);
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("add route 10.60.0.0/16 via 10.61.0.2 dev a0 onlink table 1000 in namespace"));
    EXPECT_THAT(e.what(), HasSubstr("File exists"));
  }
}

TEST(Rule, ADuplicateOrMissingRuleNamesTheRule) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  const RoutingRule rule{AF_INET6, 70, Cidr::from("fd00:7::/64"), kTable};
  netns::add_rule(ns, rule);
  EXPECT_THAT(netns::list_rules(ns, AF_INET6), Contains(rule));
  EXPECT_THAT(netns::list_rules(ns, AF_INET), Not(Contains(rule)));
  try {
    netns::add_rule(ns, rule);
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("add routing rule pref 70 to fd00:7::/64 lookup 1000 in namespace net:["));
    EXPECT_THAT(e.what(), HasSubstr("File exists"));
  }
  netns::delete_rule(ns, rule);
  try {
    netns::delete_rule(ns, rule);
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("delete routing rule pref 70 to fd00:7::/64 lookup 1000"));
  }
  EXPECT_THROW(netns::add_rule(ns, {AF_INET, 71, Cidr::from("fd00:7::/64"), kTable}), kpath::Error);
}

TEST(Rule, RulesThatSelectByMoreThanTheDestinationAreNotListed) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  for (std::vector<std::string> selector : {std::vector<std::string>{"from", "10.1.0.0/16"},
                                            {"fwmark", "0x4000"},
                                            {"iif", "lo"},
                                            {"not", "to", "10.2.0.0/16"}}) {
    std::vector<std::string> argv{"ip", "-4", "rule", "add", "pref", "80"};
    argv.insert(argv.end(), selector.begin(), selector.end());
    argv.insert(argv.end(), {"lookup", "1000"});
    ASSERT_EQ(netns::run_process(ns, argv).exit_code, 0) << selector.front();
    for (const RoutingRule& rule : netns::list_rules(ns, AF_INET))
      EXPECT_NE(rule.priority, 80u) << selector.front() << " listed as " << rule.str();
    ASSERT_EQ(netns::run_process(ns, {"ip", "-4", "rule", "del", "pref", "80"}).exit_code, 0);
  }
}

}  // namespace
