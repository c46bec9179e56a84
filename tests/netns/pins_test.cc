// Pin names fit what `ip netns` accepts whatever the label; markers name an
// owner that pid reuse cannot fake; pin_with_marker pins and records.
#include "netns/pins.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <regex>

#include "base/error.h"
#include "support/privileges.h"

namespace {

using netns::pin_name;
using netns::ProcessId;

// What iproute2's ip netns accepts as NAME: no '/', not "." or "..", at most NAME_MAX.
void expect_ip_accepts(const std::string& name) {
  EXPECT_LE(name.size(), netns::kMaxPinName) << name;
  EXPECT_LE(name.size(), static_cast<size_t>(NAME_MAX)) << name;
  EXPECT_TRUE(std::regex_match(name, std::regex("[A-Za-z0-9._-]+"))) << name;
  EXPECT_NE(name, ".");
  EXPECT_NE(name, "..");
}

constexpr const char* kLongPrefix = "kpath-4194304-65535-";  // the largest pid and a large run number

TEST(PinName, ShortLabelsStayReadable) {
  EXPECT_EQ(pin_name("kpath-12-3-", "master"), "kpath-12-3-master");
  EXPECT_EQ(pin_name(kLongPrefix, "fabric"), std::string(kLongPrefix) + "fabric");
}

TEST(PinName, LongLabelsAreShortenedDeterministicallyAndStayApart) {
  std::string a(63, 'a'), b = std::string(62, 'a') + "b";  // the loader's longest names, one letter apart
  std::string na = pin_name(kLongPrefix, a), nb = pin_name(kLongPrefix, b);
  expect_ip_accepts(na);
  expect_ip_accepts(nb);
  EXPECT_EQ(na.size(), netns::kMaxPinName);
  EXPECT_EQ(na, pin_name(kLongPrefix, a));  // deterministic
  EXPECT_NE(na, nb);
  EXPECT_THAT(na, testing::StartsWith(std::string(kLongPrefix) + "aaaa"));
  expect_ip_accepts(pin_name(kLongPrefix, std::string(300, 'x')));
}

TEST(PinName, WhatIpRejectsNeverComesOut) {
  for (const std::string label : {".", "..", "a/b", "../../etc", "", "sp ace", "t\tab", "\xff\xfe"}) {
    std::string name = pin_name("", label);
    expect_ip_accepts(name);
    expect_ip_accepts(pin_name(kLongPrefix, label));
  }
  EXPECT_NE(pin_name("p-", "a/b"), pin_name("p-", "a_b"));  // cleaned labels keep their own hash
}

TEST(ProcessId, SelfIsAliveAndAReusedPidIsNot) {
  ProcessId self = ProcessId::self();
  EXPECT_EQ(self.pid, getpid());
  EXPECT_TRUE(self.alive());
  EXPECT_FALSE((ProcessId{self.pid, self.start_time + 1}).alive()) << "same pid, another start: another process";
  pid_t child = fork();
  if (child == 0) _exit(0);
  auto seen = ProcessId::of(child);
  ASSERT_TRUE(seen.has_value());
  waitpid(child, nullptr, 0);
  EXPECT_FALSE(seen->alive()) << "a reaped child has exited";
}

TEST(PinMarker, RoundTripsAndRejectsWhatItDidNotWrite) {
  netns::PinMarker m{"kpath-1-1-web", {42, 12345}, 4026532001ul, "web"};
  auto back = netns::PinMarker::parse(m.name, m.text());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->owner, m.owner);
  EXPECT_EQ(back->ns_inode, m.ns_inode);
  EXPECT_EQ(back->label, "web");
  EXPECT_FALSE(netns::PinMarker::parse("x", "").has_value());
  EXPECT_FALSE(netns::PinMarker::parse("x", "kpath-pin v1\npid 42\n").has_value());
  EXPECT_FALSE(netns::PinMarker::parse("x", "kpath-pin v1\npid x\nstart 1\nns 2\nlabel a\n").has_value());
  EXPECT_FALSE(netns::PinMarker::parse("x", "hand-made\n").has_value());
}

TEST(PinWithMarker, PinsTheNamespaceAndRecordsItsOwner) {
  KPATH_REQUIRE_NET_ADMIN();
  std::string dir = std::filesystem::temp_directory_path() / ("kpath-pins-test-" + std::to_string(getpid()));
  netns::PinDirs dirs{dir + "/netns", dir + "/markers"};
  auto ns = netns::Namespace::create();
  netns::pin_with_marker(ns, "kpath-t-web", "web", dirs);
  EXPECT_EQ(netns::Namespace::open(dirs.pins + "/kpath-t-web").id(), ns.id());
  auto markers = netns::read_markers(dirs);
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_EQ(markers[0].owner, ProcessId::self());
  EXPECT_EQ(markers[0].label, "web");
  EXPECT_TRUE(netns::pin_matches(markers[0], dirs));
  // A second pin of that name fails and leaves the first pin's marker alone.
  EXPECT_THROW(netns::pin_with_marker(netns::Namespace::create(), "kpath-t-web", "other", dirs), kpath::Error);
  EXPECT_EQ(netns::read_markers(dirs).size(), 1u);
  netns::Namespace::unpin(dirs.pins + "/kpath-t-web");
  EXPECT_FALSE(netns::pin_matches(markers[0], dirs));
  netns::remove_marker("kpath-t-web", dirs);
  EXPECT_TRUE(netns::read_markers(dirs).empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
