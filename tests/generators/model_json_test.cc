// The exec/proxy contract's model (kpath.model/v1): the fields real tools
// need beyond the rules' inputs.
#include <gtest/gtest.h>

#include "generators/reference_cluster.h"
#include "harness/generators/model_json.h"

namespace {

using namespace harness;

TEST(ModelJson, CarriesFamiliesAddressTypesNodeLabelsAndTheRunContext) {
  Cluster c = kpath_test::small_cluster();
  c.slices = {kpath_test::slice("default", "web", {}, {kpath_test::endpoint("fd00::5", c.nodes[0].name)})};
  auto j = model_json(c, c.nodes[0].name, RunContext{"legacy", "/var/tmp/kpath-proxy-x"});
  EXPECT_EQ(j["iptables"], "legacy");
  EXPECT_EQ(j["scratch"], "/var/tmp/kpath-proxy-x");
  const auto& svc = j["services"][0];
  EXPECT_EQ(svc["ipFamilies"], nlohmann::json::array({"IPv4"}));
  EXPECT_EQ(svc["ipFamilyPolicy"], "SingleStack");
  EXPECT_TRUE(svc["labels"].is_object());
  EXPECT_TRUE(svc["annotations"].is_object());
  EXPECT_EQ(j["endpointSlices"][0]["addressType"], "IPv6");
  const auto& node = j["nodes"][0];
  EXPECT_EQ(node["labels"]["kubernetes.io/hostname"], c.nodes[0].name);
  EXPECT_TRUE(node["podCIDRs"].is_array());
}

TEST(ModelJson, WithoutAContextTheFieldsAreThereAndEmpty) {
  Cluster c = kpath_test::small_cluster();
  auto j = model_json(c, c.nodes[0].name);
  EXPECT_EQ(j["iptables"], "");
  EXPECT_EQ(j["scratch"], "");
  EXPECT_TRUE(j["nodes"][0]["netns"].is_null());
}

TEST(ModelJson, PodsCarryTheirLinksAndNamespacePaths) {
  Cluster c;
  c.nodes = {Node{"node-a"}, Node{"node-b"}};
  for (auto [pod, node] : {std::pair{"p1", "node-a"}, {"p2", "node-b"}, {"p3", "node-a"}}) {
    Pod p;
    p.name = pod;
    p.node = node;
    c.pods.push_back(p);
  }
  c.externals = {External{"client"}};
  RunContext context;
  context.netns = {{"node-a", "/proc/1/fd/7"}, {"p3", "/proc/1/fd/11"}, {"client", "/proc/1/fd/12"}};
  auto j = model_json(c, "node-a", context);
  ASSERT_EQ(j["pods"].size(), 3u);
  // veth<N> counts each node's pods in the case's order.
  EXPECT_EQ(j["pods"][0]["links"], nlohmann::json({{"node", "veth0"}, {"pod", "eth0"}}));
  EXPECT_EQ(j["pods"][1]["links"]["node"], "veth0");
  EXPECT_EQ(j["pods"][2]["links"]["node"], "veth1");
  EXPECT_EQ(j["pods"][2]["node"], "node-a");
  EXPECT_EQ(j["pods"][2]["netns"], "/proc/1/fd/11");
  EXPECT_TRUE(j["pods"][0]["netns"].is_null());
  EXPECT_EQ(j["nodes"][0]["netns"], "/proc/1/fd/7");
  EXPECT_EQ(j["externals"][0]["netns"], "/proc/1/fd/12");
}

}  // namespace
