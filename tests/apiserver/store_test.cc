#include "harness/apiserver/store.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace {

using namespace harness::apiserver;
using kpath_test::small_cluster;

std::vector<std::string> describe(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(std::to_string(e.rv) + " " + to_string(e.type) + " " + to_string(e.bucket) + " " + e.key.first + "/" +
                  e.key.second);
  return out;
}

TEST(Store, FirstReplaceAddsEverythingWithIncreasingVersions) {
  Store store;
  auto events = store.replace(objects_of(small_cluster()), "2024-01-01T00:00:00Z");
  EXPECT_EQ(describe(events),
            (std::vector<std::string>{"1 ADDED nodes /node-1", "2 ADDED nodes /node-2", "3 ADDED services db/db",
                                      "4 ADDED services default/web", "5 ADDED endpointslices default/web-abc12",
                                      "6 ADDED endpoints db/db", "7 ADDED endpoints default/web"}));
  EXPECT_EQ(store.resource_version(), 7u);
  const Json& web = store.current(Bucket::Services).at({"default", "web"});
  EXPECT_EQ(web["metadata"]["resourceVersion"], "4");
  EXPECT_EQ(web["metadata"]["creationTimestamp"], "2024-01-01T00:00:00Z");
  EXPECT_EQ(web["metadata"]["uid"], uid_for("Service", {"default", "web"}));
}

TEST(Store, OnlyRealChangesMakeEvents) {
  Store store;
  auto c = small_cluster();
  store.replace(objects_of(c), "t0");
  EXPECT_TRUE(store.replace(objects_of(c), "t1").empty());
  EXPECT_EQ(store.resource_version(), 7u);

  c.slices[0].endpoints[1].ready = true;  // web-2 becomes ready: the slice and the Endpoints change
  auto events = store.replace(objects_of(c), "t2");
  EXPECT_EQ(describe(events), (std::vector<std::string>{"8 MODIFIED endpointslices default/web-abc12",
                                                        "9 MODIFIED endpoints default/web"}));
  const Json& slice = store.current(Bucket::EndpointSlices).at({"default", "web-abc12"});
  EXPECT_EQ(slice["metadata"]["resourceVersion"], "8");
  EXPECT_EQ(slice["metadata"]["creationTimestamp"], "t0");  // kept across changes
  EXPECT_EQ(events[0].previous["endpoints"][1]["conditions"]["ready"], false);
  EXPECT_EQ(events[0].object["endpoints"][1]["conditions"]["ready"], true);
}

TEST(Store, DeletedObjectCarriesTheDeletionVersion) {
  Store store;
  auto c = small_cluster();
  store.replace(objects_of(c), "t0");
  c.services.pop_back();  // db/db
  auto events = store.replace(objects_of(c), "t1");
  EXPECT_EQ(describe(events), (std::vector<std::string>{"8 DELETED services db/db", "9 DELETED endpoints db/db"}));
  EXPECT_EQ(events[0].object["metadata"]["resourceVersion"], "8");
  EXPECT_EQ(events[0].object["metadata"]["name"], "db");
  EXPECT_FALSE(store.current(Bucket::Services).count({"db", "db"}));
}

TEST(Store, RebuildsAnOlderState) {
  Store store;
  auto c = small_cluster();
  store.replace(objects_of(c), "t0");
  auto at7 = store.current(Bucket::EndpointSlices);
  c.slices[0].endpoints.pop_back();
  store.replace(objects_of(c), "t1");
  c.slices.clear();
  store.replace(objects_of(c), "t2");
  EXPECT_TRUE(store.current(Bucket::EndpointSlices).empty());
  auto old = store.at(Bucket::EndpointSlices, 7);
  ASSERT_TRUE(old);
  EXPECT_EQ(*old, at7);
  auto middle = store.at(Bucket::EndpointSlices, 8);  // after the pop, before the deletion
  ASSERT_TRUE(middle);
  EXPECT_EQ(middle->at({"default", "web-abc12"})["endpoints"].size(), 2u);
  EXPECT_EQ(store.at(Bucket::Nodes, 0)->size(), 0u);  // before anything existed
  EXPECT_FALSE(store.at(Bucket::Nodes, store.resource_version() + 1));
}

TEST(Store, SinceListsLaterChanges) {
  Store store;
  auto c = small_cluster();
  store.replace(objects_of(c), "t0");
  c.nodes.pop_back();
  store.replace(objects_of(c), "t1");
  auto events = store.since(6);
  ASSERT_TRUE(events);
  EXPECT_EQ(describe(*events), (std::vector<std::string>{"7 ADDED endpoints default/web", "8 DELETED nodes /node-2"}));
  EXPECT_TRUE(store.since(8)->empty());
}

TEST(Store, HistoryLimitExpiresOldVersions) {
  Store store(3);
  auto c = small_cluster();
  store.replace(objects_of(c), "t0");  // 7 events; the last 3 are kept
  EXPECT_EQ(store.oldest(), 4u);
  EXPECT_FALSE(store.since(3));
  EXPECT_FALSE(store.at(Bucket::Services, 3));
  ASSERT_TRUE(store.since(4));
  EXPECT_EQ(store.since(4)->size(), 3u);
  ASSERT_TRUE(store.at(Bucket::Services, 4));
  EXPECT_EQ(store.at(Bucket::Services, 4)->size(), 2u);
  EXPECT_EQ(store.at(Bucket::EndpointSlices, 4)->size(), 0u);
}

}  // namespace
