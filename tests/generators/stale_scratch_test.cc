// Scratch directories carry their kpath in the name, so `kpath cleanup` can
// remove the ones a killed run left and keep a running one's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "harness/generators/generator.h"
#include "netns/pins.h"

namespace {

namespace fs = std::filesystem;

class StaleScratch : public testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("kpath-stale-scratch-test-" + std::to_string(::getpid()));
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path make_dir(const std::string& name) {
    fs::create_directories(root_ / name / "sub");
    std::ofstream(root_ / name / "sub" / "node-a.log") << "log";
    return root_ / name;
  }

  fs::path root_;
};

TEST(OwnedName, RecordsThisProcessAndReadsBack) {
  const std::string name = netns::owned_name(harness::kExecScratch) + "-AbC123";
  auto owner = netns::owner_in_name(name, harness::kExecScratch);
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(*owner, netns::ProcessId::self());
  EXPECT_TRUE(owner->alive());
  EXPECT_FALSE(netns::owner_in_name(name, harness::kProxyScratch).has_value());
  EXPECT_FALSE(netns::owner_in_name("kpath-exec-foo", harness::kExecScratch).has_value());
  EXPECT_FALSE(netns::owner_in_name("kpath-exec-12", harness::kExecScratch).has_value());
  EXPECT_FALSE(netns::owner_in_name("kpath-exec--3.4-x", harness::kExecScratch).has_value());
}

TEST_F(StaleScratch, RemovesOnlyDirectoriesOfExitedOwners) {
  netns::ProcessId self = netns::ProcessId::self();
  // This pid with another start time: a process that has exited (its pid reused by us).
  const std::string dead = std::to_string(self.pid) + "." + std::to_string(self.start_time + 1);
  fs::path mine = make_dir(netns::owned_name(harness::kExecScratch) + "-aaaaaa");
  fs::path killed_exec = make_dir(std::string(harness::kExecScratch) + "-" + dead + "-bbbbbb");
  fs::path killed_proxy = make_dir(std::string(harness::kProxyScratch) + "-" + dead + "-cccccc");
  fs::path unowned = make_dir("kpath-exec-made-by-hand");
  fs::path other = make_dir("someone-" + dead + "-dddddd");
  const fs::path file = root_ / (std::string(harness::kExecScratch) + "-" + dead + "-file");
  std::ofstream(file) << "not a directory";

  auto removed = harness::remove_stale_scratch(root_.string());
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> want{killed_exec.string(), killed_proxy.string()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(removed, want);
  EXPECT_FALSE(fs::exists(killed_exec));
  EXPECT_FALSE(fs::exists(killed_proxy));
  EXPECT_TRUE(fs::exists(mine / "sub" / "node-a.log"));
  EXPECT_TRUE(fs::exists(unowned));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_TRUE(fs::exists(file));
}

TEST_F(StaleScratch, AMissingRootIsNothingToDo) {
  EXPECT_TRUE(harness::remove_stale_scratch((root_ / "absent").string()).empty());
}

}  // namespace
