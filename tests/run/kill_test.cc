// SIGKILL in the middle of a run leaves nothing behind: namespaces are held by
// fd, installers and generators die with kpath (their sandbox watches a pipe
// only kpath holds), nothing is pinned without --keep. SIGINT and SIGTERM end
// kpath within 1 s at any point, probes in flight or a hung generator
// included; a second SIGINT ends it at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <pugixml.hpp>

#include "support/eventually.h"
#include "support/files.h"
#include "support/host_snapshot.h"
#include "support/privileges.h"
#include "support/processes.h"

namespace {

// Every process the spawned kpath starts inherits this mark in its
// environment, so leftovers are found without confusing them with the
// installers of other tests running at the same time.
std::string mark() { return kpath_test::env_mark("KPATH_KILL_TEST"); }

pid_t spawn_kpath(const std::vector<std::string>& args) {
  std::string env = mark();
  pid_t pid = fork();
  if (pid == 0) {
    putenv(env.data());
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    kpath_test::exec_or_exit(KPATH_BINARY, args);
  }
  return pid;
}

// Processes (other than this test) whose environment carries the mark.
std::vector<std::string> marked_processes() { return kpath_test::processes_with("environ", mark()); }

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
    kpath_test::wait_exit(pid);
    auto after = kpath_test::HostSnapshot::settled_to(before);
    EXPECT_TRUE(before == after) << "leftovers after kill #" << i << ":\n" << before.difference(after);
    kpath_test::eventually([] { return marked_processes().empty(); }, std::chrono::seconds(1));
    EXPECT_EQ(marked_processes(), std::vector<std::string>{}) << "processes left after kill #" << i;
  }
}

// The JUnit after SIGINT lists every planned run and expectation: what ran
// with its result, the rest skipped with the reason "interrupted".
TEST(Kill, SigintStopsCleanlyAndStillWritesJunit) {
  KPATH_REQUIRE_NET_ADMIN();
  kpath_test::TempPath junit_file(::testing::TempDir() + "kpath-sigint-" + std::to_string(getpid()) + ".xml");
  const std::string& junit = junit_file.str();
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
    EXPECT_STREQ(
        suite.child("properties").find_child_by_attribute("property", "name", "interrupted").attribute("value").value(),
        "true");
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

// A load balancer address that drops one client: every probe waits out its
// 400 ms timeout, 128 at a time (the most probes the loader allows for `dropped`).
const char* kDroppedCase = R"(apiVersion: kpath/v1
kind: Case
name: interrupt-dropped
cluster:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  nodes:
    - name: node-a
      ip: 192.168.10.1
      pods:
        - {name: web-a, ip: 10.244.0.10, labels: {app: web}, listen: [{port: 8080, protocol: TCP}]}
  externals:
    - {name: outsider, ip: 192.168.10.200}
objects:
  - apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: default}
    spec:
      type: LoadBalancer
      clusterIP: 10.96.10.11
      selector: {app: web}
      loadBalancerSourceRanges: [192.168.10.96/28]
      ports:
        - {name: http, port: 80, targetPort: 8080, nodePort: 30080, protocol: TCP}
    status:
      loadBalancer:
        ingress: [{ip: 198.51.100.10}]
expect:
  - name: the outsider is dropped, many times
    from: outsider
    to: 198.51.100.10:80
    protocol: TCP
    probes: 192000
    result: dropped
)";

// README promises about a second on an unloaded machine; a loaded CI host
// stretches the teardown (the clean-clone run saw 1073 ms at load 10). What
// these tests must catch is kpath waiting for the work it was told to stop:
// 192,000 dropped probes or a generator sleeping 1000 s take minutes.
constexpr std::chrono::seconds kPromptly{3};

class Interrupt : public testing::Test {
 protected:
  void SetUp() override {
    KPATH_REQUIRE_NET_ADMIN();
    before_ = kpath_test::HostSnapshot::take();
    case_ = ::testing::TempDir() + "kpath-interrupt-" + std::to_string(getpid()) + ".yaml";
    std::ofstream(case_) << kDroppedCase;
    junit_ = ::testing::TempDir() + "kpath-interrupt-" + std::to_string(getpid()) + ".xml";
    unlink(junit_.c_str());
  }
  void TearDown() override {
    unlink(case_.c_str());
    unlink(junit_.c_str());
  }

  // Sockets kpath holds: the probes in flight once it has started probing.
  static int sockets_of(pid_t pid) {
    int n = 0;
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec))
      if (std::filesystem::read_symlink(fd.path(), ec).string().starts_with("socket:")) ++n;
    return n;
  }

  // Sends the signals (one after the other), returns how long kpath took to exit and its status.
  std::pair<std::chrono::milliseconds, int> interrupt(pid_t pid, std::vector<int> signals) {
    auto start = std::chrono::steady_clock::now();
    for (int sig : signals) kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    return {std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start), status};
  }

  // Nothing of kpath left: no process it started, no namespace, no pin.
  void expect_nothing_left(pid_t pid) {
    EXPECT_TRUE(kpath_test::eventually([] { return marked_processes().empty(); }, std::chrono::seconds(2)))
        << "processes left behind";
    auto after = kpath_test::HostSnapshot::settled_to(before_);
    EXPECT_TRUE(before_ == after) << before_.difference(after);
    EXPECT_FALSE(std::filesystem::exists("/run/netns/kpath-" + std::to_string(pid) + "-1-node-a"));
  }

  kpath_test::HostSnapshot before_;
  std::string case_, junit_;
};

TEST_F(Interrupt, SigintWithProbesInFlightEndsKpathPromptly) {
  for (int sig : {SIGINT, SIGTERM}) {
    pid_t pid = spawn_kpath({"run", "-g", "kube-iptables", "--junit", junit_, case_});
    ASSERT_TRUE(kpath_test::eventually([&] { return sockets_of(pid) >= 100; }, std::chrono::seconds(60)))
        << "kpath never had its probes in flight";
    auto [took, status] = interrupt(pid, {sig});
    EXPECT_LT(took, kPromptly) << "signal " << sig;
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_file(junit_.c_str())) << "no JUnit after the interruption";
    auto tc = doc.child("testsuites").child("testsuite").child("testcase");
    EXPECT_STREQ(tc.child("skipped").attribute("message").value(), "interrupted")
        << "the cut-short expectation has no verdict";
    expect_nothing_left(pid);
  }
}

TEST_F(Interrupt, SigintWhileAGeneratorHangsEndsKpathAndTheGeneratorPromptly) {
  const std::string marker = "1000." + std::to_string(getpid()) + "3";
  pid_t pid = spawn_kpath({"run", "-g", "exec:sleep " + marker + " & sleep " + marker, case_});
  ASSERT_TRUE(kpath_test::eventually([&] { return marked_processes().size() >= 3; }, std::chrono::seconds(60)))
      << "the generator never started";
  auto [took, status] = interrupt(pid, {SIGINT});
  EXPECT_LT(took, kPromptly);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  expect_nothing_left(pid);
}

TEST_F(Interrupt, SecondSigintEndsKpathAtOnce) {
  pid_t pid = spawn_kpath({"run", "-g", "kube-iptables", "--junit", junit_, case_});
  ASSERT_TRUE(kpath_test::eventually([&] { return sockets_of(pid) >= 100; }, std::chrono::seconds(60)));
  // Apart: two SIGINTs pending at once are delivered as one.
  auto start = std::chrono::steady_clock::now();
  kill(pid, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto [rest, status] = interrupt(pid, {SIGINT});
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_LT(took, kPromptly);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  // The path is checked (created) before the run; the report itself is never written.
  pugi::xml_document doc;
  EXPECT_FALSE(doc.load_file(junit_.c_str()) && doc.child("testsuites"))
      << "the second SIGINT did not skip the reports";
  expect_nothing_left(pid);
}

}  // namespace
