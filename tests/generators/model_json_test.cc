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
}

}  // namespace
