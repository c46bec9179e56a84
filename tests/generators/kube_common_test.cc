#include "harness/generators/kube_common.h"

#include <gtest/gtest.h>

namespace {

using harness::kube::Args;
using harness::kube::args;

TEST(RuleArgs, OneSpaceBetweenTokensNoneAtTheEnds) {
  EXPECT_EQ(args("-A", "KUBE-SERVICES", "-j", "KUBE-NODEPORTS").str(), "-A KUBE-SERVICES -j KUBE-NODEPORTS");
  EXPECT_EQ(Args().str(), "");
}

TEST(RuleArgs, EmptyTokensAndEmptyArgsAreAbsent) {
  const bool random_fully = false;
  EXPECT_EQ(args("-j", "MASQUERADE", random_fully ? "--random-fully" : "").str(), "-j MASQUERADE");
  EXPECT_EQ(args("", "-m", Args(), "mark", "").str(), "-m mark");
}

TEST(RuleArgs, NestedArgsAndNumbersFlatten) {
  const Args match = args("-m", "tcp", "-p", "tcp", "--dport", uint16_t(30080));
  EXPECT_EQ(args("-A", "KUBE-NODEPORTS", match, "-j", "KUBE-EXT-X").str(),
            "-A KUBE-NODEPORTS -m tcp -p tcp --dport 30080 -j KUBE-EXT-X");
  EXPECT_EQ(args("--seconds", 10800, "mod", size_t(2)).str(), "--seconds 10800 mod 2");
}

TEST(RuleArgs, QuotedKeepsSpacesInOneToken) {
  EXPECT_EQ(args("--comment", harness::kube::quoted("ns/svc:p80 cluster IP")).str(),
            "--comment \"ns/svc:p80 cluster IP\"");
}

TEST(ServicePortName, UnnamedPortHasNoColonSince119) {
  harness::Service svc;
  svc.ns = "default";
  svc.name = "web";
  harness::ServicePort named, unnamed;
  named.name = "http";
  using harness::kube::PortNames;
  using harness::kube::service_port_name;
  EXPECT_EQ(service_port_name(svc, named, PortNames::Current), "default/web:http");
  EXPECT_EQ(service_port_name(svc, named, PortNames::Pre119), "default/web:http");
  EXPECT_EQ(service_port_name(svc, unnamed, PortNames::Current), "default/web");
  EXPECT_EQ(service_port_name(svc, unnamed, PortNames::Pre119), "default/web:");
}

}  // namespace
