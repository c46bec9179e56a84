// The proxy feature table and the skip reason for an older proxy.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/model/proxy_features.h"

namespace harness {
namespace {

using ::testing::HasSubstr;

TEST(KubeVersion, ParsesAndOrders) {
  EXPECT_EQ(parse_version("1.20.2"), (KubeVersion{1, 20, 2}));
  EXPECT_EQ(parse_version("v1.21"), (KubeVersion{1, 21, 0}));
  EXPECT_EQ(parse_version("1"), std::nullopt);
  EXPECT_EQ(parse_version("1.20.2.1"), std::nullopt);
  EXPECT_EQ(parse_version("1.x"), std::nullopt);
  EXPECT_EQ(parse_version(""), std::nullopt);
  EXPECT_LT(*parse_version("1.20.2"), *parse_version("1.21"));
  EXPECT_EQ(parse_version("1.21")->str(), "1.21");
}

TEST(ProxyFeatures, AnOlderVersionMissesNewerFeatures) {
  auto why = missing_proxy_feature({"internalTrafficPolicy", "terminatingEndpoints"}, "1.20.2");
  ASSERT_TRUE(why);
  EXPECT_THAT(*why, HasSubstr("internalTrafficPolicy (kube-proxy 1.21+"));
  EXPECT_THAT(*why, HasSubstr("terminatingEndpoints (kube-proxy 1.22+"));
  EXPECT_THAT(*why, HasSubstr("the generator declares kube-proxy 1.20.2"));
  // The feature's own release has it; no version declared runs everything.
  EXPECT_EQ(missing_proxy_feature({"internalTrafficPolicy"}, "1.21.0"), std::nullopt);
  EXPECT_EQ(missing_proxy_feature({"terminatingEndpoints"}, ""), std::nullopt);
  EXPECT_EQ(missing_proxy_feature({}, "1.0"), std::nullopt);
}

TEST(ProxyFeatures, EveryNameIsFoundOnce) {
  for (const auto& f : proxy_features()) {
    EXPECT_EQ(find_proxy_feature(f.name), &f);
    EXPECT_FALSE(f.what.empty());
  }
  EXPECT_EQ(find_proxy_feature("nope"), nullptr);
}

}  // namespace
}  // namespace harness
