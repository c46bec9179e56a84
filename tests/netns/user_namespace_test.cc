// The id mapping of rootless mode: /etc/subuid and /etc/subgid parsed by
// name and by uid; ranges only with both ranges and both tools, else the
// single mapping with the reason.
#include "netns/user_namespace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using netns::plan_id_maps;
using netns::subordinate_range;
using netns::SubordinateRange;
using testing::ElementsAre;
using testing::HasSubstr;

constexpr const char* kSubuid =
    "# comment lines and broken ones are skipped\n"
    "alice:100000:65536\n"
    "broken line\n"
    "bob:abc:10\n"
    "bob:200000:0\n"
    "bob:300000:1000\n"
    "1002:400000:65536\n"
    "alice:500000:10\n";

TEST(SubordinateRange, ByNameTheFirstRange) {
  EXPECT_EQ(subordinate_range(kSubuid, "alice", 1000), (SubordinateRange{100000, 65536}));
}

TEST(SubordinateRange, SkipsLinesThatDoNotParseOrAreEmpty) {
  EXPECT_EQ(subordinate_range(kSubuid, "bob", 1001), (SubordinateRange{300000, 1000}));
}

TEST(SubordinateRange, ByNumericUid) {
  EXPECT_EQ(subordinate_range(kSubuid, "carol", 1002), (SubordinateRange{400000, 65536}));
  EXPECT_EQ(subordinate_range(kSubuid, "", 1002), (SubordinateRange{400000, 65536}));
}

TEST(SubordinateRange, NoneForOthersOrBeyondTheIdSpace) {
  EXPECT_EQ(subordinate_range(kSubuid, "dave", 1003), std::nullopt);
  EXPECT_EQ(subordinate_range("", "alice", 1000), std::nullopt);
  EXPECT_EQ(subordinate_range("alice:4294967000:65536\n", "alice", 1000), std::nullopt);
  EXPECT_EQ(subordinate_range("ali:1:2\nalice2:1:2\n", "alice", 1000), std::nullopt) << "whole names only";
}

TEST(IdMapPlan, RangesMapTheCallerToZeroAndTheRangeFromOne) {
  auto plan = plan_id_maps(1000, 1001, SubordinateRange{100000, 65536}, SubordinateRange{200000, 1000},
                           "/usr/bin/newuidmap", "/usr/bin/newgidmap");
  ASSERT_TRUE(plan.ranges());
  EXPECT_THAT(plan.uid_args(), ElementsAre("0", "1000", "1", "1", "100000", "65536"));
  EXPECT_THAT(plan.gid_args(), ElementsAre("0", "1001", "1", "1", "200000", "1000"));
  EXPECT_EQ(plan.describe(), "uid 1000 -> 0 and 100000-165535 -> 1-65536, gid 1001 -> 0 and 200000-200999 -> 1-1000");
  EXPECT_EQ(plan.why_single, "");
}

TEST(IdMapPlan, TheSingleMappingWithoutARangeOrATool) {
  auto no_gid = plan_id_maps(1000, 1000, SubordinateRange{100000, 65536}, std::nullopt, "/a", "/b");
  EXPECT_FALSE(no_gid.ranges());
  EXPECT_THAT(no_gid.why_single, HasSubstr("/etc/subgid"));
  EXPECT_EQ(no_gid.describe(), "uid 1000 -> 0, gid 1000 -> 0");
  EXPECT_THAT(no_gid.uid_args(), ElementsAre("0", "1000", "1"));

  auto no_uid = plan_id_maps(1000, 1000, std::nullopt, SubordinateRange{100000, 65536}, "/a", "/b");
  EXPECT_THAT(no_uid.why_single, HasSubstr("/etc/subuid"));

  auto no_tool = plan_id_maps(1000, 1000, SubordinateRange{100000, 65536}, SubordinateRange{100000, 65536}, "/a", "");
  EXPECT_FALSE(no_tool.ranges());
  EXPECT_THAT(no_tool.why_single, HasSubstr("uidmap"));
}

}  // namespace
