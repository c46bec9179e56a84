// SIGKILL in the middle of a run leaves nothing behind: namespaces are held by
// fd, installers die with kpath (PDEATHSIG), nothing is pinned without --keep.
#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <pugixml.hpp>

#include "support/host_snapshot.h"
#include "support/privileges.h"

namespace {

// Every process the spawned kpath starts inherits this mark in its
// environment, so leftovers are found without confusing them with the
// installers of other tests running at the same time.
std::string mark() { return "KPATH_KILL_TEST=" + std::to_string(getpid()); }

pid_t spawn_kpath(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    putenv(strdup(mark().c_str()));
    std::vector<char*> argv;
    std::string bin = KPATH_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Processes (other than this test) whose environment carries the mark.
std::vector<std::string> marked_processes() {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string pid = entry.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(getpid())) continue;
    std::ifstream env(entry.path() / "environ");
    std::string all((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    if (all.find(mark()) != std::string::npos) found.push_back(pid);
  }
  return found;
}

TEST(Kill, SigkillMidRunLeavesNothingBehind) {
  KPATH_REQUIRE_NET_ADMIN();
  auto before = kpath_test::HostSnapshot::take();
  std::mt19937 rng(20261126);
  std::uniform_int_distribution<int> delay_ms(5, 600);
  const std::string seed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";
  for (int i = 0; i < 5; ++i) {
    pid_t pid = spawn_kpath({"run", "-g", "kube-iptables", seed});
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    // The kernel frees namespaces asynchronously after the last fd closes.
    for (int t = 0; t < 50 && !(before == kpath_test::HostSnapshot::take()); ++t)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto after = kpath_test::HostSnapshot::take();
    EXPECT_TRUE(before == after) << "leftovers after kill #" << i << ":\n" << before.difference(after);
    for (int t = 0; t < 50 && !marked_processes().empty(); ++t) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(marked_processes(), std::vector<std::string>{}) << "processes left after kill #" << i;
  }
}

// The JUnit after SIGINT lists every planned run and expectation: what ran
// with its result, the rest skipped with the reason "interrupted".
TEST(Kill, SigintStopsCleanlyAndStillWritesJunit) {
  KPATH_REQUIRE_NET_ADMIN();
  std::string junit = ::testing::TempDir() + "kpath-sigint-" + std::to_string(getpid()) + ".xml";
  unlink(junit.c_str());
  const std::string seed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";
  constexpr int kRuns = 4, kExpectations = 4;  // the seed case has 4 expectations
  std::vector<std::string> args = {"run", "-j", "1", "--junit", junit, seed};
  for (int i = 0; i < kRuns; ++i) args.insert(args.begin() + 1, {"-g", "kube-iptables"});
  pid_t pid = spawn_kpath(args);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_file(junit.c_str())) << "no readable JUnit file after SIGINT";
  auto root = doc.child("testsuites");
  EXPECT_EQ(root.attribute("tests").as_int(), kRuns * kExpectations);
  EXPECT_EQ(root.attribute("failures").as_int(), 0);
  EXPECT_EQ(root.attribute("errors").as_int(), 0);
  int suites = 0, cases = 0, skipped = 0;
  for (auto suite : root.children("testsuite")) {
    ++suites;
    EXPECT_STREQ(suite.child("properties").find_child_by_attribute("property", "name", "interrupted")
                     .attribute("value").value(), "true");
    for (auto tc : suite.children("testcase")) {
      ++cases;
      if (tc.child("skipped").empty()) continue;
      ++skipped;
      EXPECT_STREQ(tc.child("skipped").attribute("message").value(), "interrupted");
    }
  }
  EXPECT_EQ(suites, kRuns);
  EXPECT_EQ(cases, kRuns * kExpectations);
  EXPECT_GE(skipped, kExpectations) << "with one job, at least the last run cannot have started";
  EXPECT_EQ(root.attribute("skipped").as_int(), skipped);
}

}  // namespace
