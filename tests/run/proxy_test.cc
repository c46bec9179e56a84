// proxy:COMMAND on the kernel, with a fake proxy (tests/run/fake_proxy.py)
// that lists and watches kpath's API server and installs nft rules itself:
// started once per node, endpoint changes arrive as watch events (same pid),
// convergence times are reported, a proxy that never converges is an ERROR
// with its log's tail, and nothing is left afterwards (processes, namespaces,
// the scratch directory), even from a proxy that forks and ignores SIGTERM.
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "harness/cases/case_loader.h"
#include "harness/run/runner.h"
#include "support/host_snapshot.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

const std::string kFake = std::string(KPATH_TESTS_DIR) + "/run/fake_proxy.py";

// One node, two pods behind a ClusterIP; the second expectation deletes one
// endpoint first, the third makes it ready again while probes run.
const char* const kCase = R"(apiVersion: kpath/v1
kind: Case
name: fake-proxy
cluster:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  nodes:
    - name: node-a
      ip: 192.168.10.1
      pods:
        - {name: web-a, ip: 10.244.0.11, labels: {app: web}, listen: [{port: 8080}]}
        - {name: web-b, ip: 10.244.0.12, labels: {app: web}, listen: [{port: 8080}]}
        - {name: client, ip: 10.244.0.20}
objects:
  - apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: default}
    spec:
      clusterIP: 10.96.0.10
      selector: {app: web}
      ports: [{port: 80, targetPort: 8080}]
expect:
  - name: both pods answer
    from: client
    to: default/web:80
    probes: 200
    backends: uniform
  - name: only web-b after web-a is deleted
    from: client
    to: default/web:80
    probes: 100
    backends: {one-of: [web-b]}
    before: {web-a: deleted}
)";

// A fresh directory for the run's scratch space, so the test can see it
// emptied; not under /tmp, which the proxy's sandbox replaces with its own.
std::string scratch_root(const std::string& name) {
  std::string dir = "/var/tmp/kpath-proxy-test-" + std::to_string(::getpid()) + "-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Run options with a scratch root and an artifacts folder of their own,
// removed when the test ends.
struct ProxyRunOptions {
  RunOptions options;
  explicit ProxyRunOptions(const std::string& name) {
    options.scratch_root = scratch_root(name);
    options.artifacts_dir = options.scratch_root + "-artifacts";
    fs::remove_all(options.artifacts_dir);
  }
  ~ProxyRunOptions() {
    fs::remove_all(options.scratch_root);
    fs::remove_all(options.artifacts_dir);
  }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Processes whose command line holds `token` (other than this test).
std::vector<std::string> processes_with(const std::string& token) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string pid = entry.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(::getpid())) continue;
    std::string cmd = read_all("/proc/" + pid + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(token) != std::string::npos) out.push_back(pid + ": " + cmd);
  }
  return out;
}

std::string describe(const CaseRun& run) {
  std::string s = run.error;
  for (const auto& e : run.expectations) s += "\n" + e.expectation->name + ": " + e.check.summary + e.diagnosis;
  return s;
}

TEST(ProxyGenerator, StartsOnceAndGetsEndpointChangesAsWatchEvents) {
  KPATH_REQUIRE_NET_ADMIN();
  auto before = kpath_test::HostSnapshot::take();
  Case c = parse_case(kCase, "fake-proxy.yaml");
  ProxyRunOptions scratch("watch");
  RunOptions& options = scratch.options;
  CaseRun run = run_case(c, GeneratorSpec::parse("proxy:" + kFake, ""), options);
  ASSERT_EQ(run.status, Status::Pass) << describe(run);

  // Convergence of the start and of the one change, each a rules-stable time.
  ASSERT_EQ(run.convergence.size(), 2u);
  EXPECT_EQ(run.convergence[0].change, "start");
  EXPECT_EQ(run.convergence[1].change, "before 'only web-b after web-a is deleted': web-a deleted");
  for (const auto& conv : run.convergence) {
    EXPECT_EQ(conv.how, "rules stable");
    EXPECT_GT(conv.elapsed.count(), 0);
    EXPECT_LT(conv.elapsed, std::chrono::seconds(10));
  }

  // The log kept under --artifacts: one start, then the change as a watch event.
  ASSERT_EQ(run.artifacts.size(), 1u);
  std::string log = read_all(run.artifacts[0]);
  std::regex started("started pid=(\\d+) node=node-a");
  EXPECT_EQ(std::distance(std::sregex_iterator(log.begin(), log.end(), started), std::sregex_iterator()), 1) << log;
  EXPECT_THAT(log, HasSubstr("event MODIFIED web"));

  // Nothing left: no proxy process, the scratch directory emptied, the host as it was.
  EXPECT_THAT(processes_with(kFake), ::testing::IsEmpty());
  EXPECT_TRUE(fs::is_empty(options.scratch_root));
  auto after = kpath_test::HostSnapshot::take();
  EXPECT_TRUE(before == after) << "the root namespace changed:\n" << before.difference(after);
}

TEST(ProxyGenerator, NeverConvergingIsAnErrorWithTheLogTail) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = parse_case(kCase, "fake-proxy.yaml");
  ProxyRunOptions scratch("idle");
  RunOptions& options = scratch.options;
  options.converge_timeout = std::chrono::seconds(2);
  CaseRun run = run_case(c, GeneratorSpec::parse("proxy:" + kFake + " --idle", ""), options);
  EXPECT_EQ(run.status, Status::Error);
  EXPECT_THAT(run.error, HasSubstr("did not converge within"));
  EXPECT_THAT(run.error, HasSubstr("node-a: its rules never changed"));
  EXPECT_THAT(run.error, HasSubstr("| idle: installing nothing"));  // the log's tail
  EXPECT_THAT(processes_with(kFake), ::testing::IsEmpty());
  EXPECT_TRUE(fs::is_empty(options.scratch_root));
}

TEST(ProxyGenerator, AProxyThatExitsIsAnErrorWithTheLogTail) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = parse_case(kCase, "fake-proxy.yaml");
  ProxyRunOptions scratch("exits");
  RunOptions& options = scratch.options;
  CaseRun run = run_case(c, GeneratorSpec::parse("proxy:echo cannot reach $KPATH_API; exit 1", ""), options);
  EXPECT_EQ(run.status, Status::Error);
  EXPECT_THAT(run.error, HasSubstr("exited before its rules converged"));
  EXPECT_THAT(run.error, HasSubstr("| cannot reach http://127.0.0.1:"));
}

TEST(ProxyGenerator, AProxyThatForksAndIgnoresSigtermLeavesNothing) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = parse_case(kCase, "fake-proxy.yaml");
  ProxyRunOptions scratch("fork");
  RunOptions& options = scratch.options;
  // A child in a session of its own that ignores SIGTERM and says it runs
  // (its sleep's unusual duration finds it afterwards), and the proxy itself
  // ignoring SIGTERM.
  const std::string token = "sleep 7" + std::to_string(::getpid());
  std::string command = "trap '' TERM; setsid sh -c \"trap '' TERM; echo stubborn child running; exec " + token +
                        "\" & exec " + kFake;
  auto t = std::chrono::steady_clock::now();
  CaseRun run = run_case(c, GeneratorSpec::parse("proxy:" + command, ""), options);
  EXPECT_EQ(run.status, Status::Pass) << describe(run);
  ASSERT_EQ(run.artifacts.size(), 1u);
  EXPECT_THAT(read_all(run.artifacts[0]), HasSubstr("stubborn child running"));
  EXPECT_THAT(processes_with(token), ::testing::IsEmpty());
  EXPECT_THAT(processes_with(kFake), ::testing::IsEmpty());
  EXPECT_LT(std::chrono::steady_clock::now() - t, std::chrono::seconds(30));
}

TEST(ProxyGenerator, AnOlderProxyVersionSkipsCasesThatRequireNewerFeatures) {
  // No kernel needed: the skip happens before anything is built.
  Case c = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/behaviours/b07-itp-local.yaml");
  CaseRun run = run_case(c, GeneratorSpec::parse("proxy,mode=iptables,version=1.20.2:true", ""), RunOptions{});
  EXPECT_EQ(run.status, Status::Skip);
  EXPECT_THAT(run.error, HasSubstr("needs internalTrafficPolicy (kube-proxy 1.21+"));
  EXPECT_THAT(run.error, HasSubstr("the generator declares kube-proxy 1.20.2"));
}

}  // namespace
