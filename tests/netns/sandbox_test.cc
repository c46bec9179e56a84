// The sandbox of every program kpath runs on a node: nothing it starts
// outlives it (exit, timeout, SIGKILL of kpath), its sysfs and net sysctls
// are the node's, the host's /proc/sys and /sys are out of its reach.
#include "netns/process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "base/error.h"
#include "support/eventually.h"
#include "support/files.h"
#include "support/privileges.h"
#include "support/processes.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using netns::Daemon;
using netns::Namespace;
using testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// A `sleep` duration no other process has in its argv: 1000.<pid><n>.
std::string marker() {
  static std::atomic<int> n{0};
  return "1000." + std::to_string(getpid()) + std::to_string(++n);
}

using kpath_test::eventually;
using kpath_test::read_file;

// Bounds that tell "reacted at once" from "waited for the 1000 s sleep or the
// 30 s timeout", with room for a loaded CI host: timing itself is a benchmark's.
constexpr auto kPromptly = std::chrono::seconds(5);

// Pids of processes whose command line holds text.
std::vector<std::string> processes_with(const std::string& text) { return kpath_test::processes_with("cmdline", text); }

std::string scratch(const std::string& name) {
  // Not under /tmp: that is the sandbox's own tmpfs.
  std::string dir = "/var/tmp/kpath-sandbox-test-" + std::to_string(getpid());
  fs::create_directories(dir);
  return dir + "/" + name;
}

class Sandbox : public testing::Test {
 protected:
  void SetUp() override {
    KPATH_REQUIRE_NET_ADMIN();
    ns_ = Namespace::create();
  }
  void TearDown() override { fs::remove_all("/var/tmp/kpath-sandbox-test-" + std::to_string(getpid())); }
  Namespace ns_;
};

TEST_F(Sandbox, ProgramIsInItsOwnPidNamespaceAndGroup) {
  auto r = netns::run_process(ns_, {"sh", "-c", "echo $$; readlink /proc/self/ns/pid; cut -d' ' -f5 /proc/$$/stat"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream out(r.out);
  std::string pid, pidns, group;
  out >> pid >> pidns >> group;
  EXPECT_EQ(pid, "2") << "the program is the first child of the sandbox's init";
  EXPECT_NE(pidns, fs::read_symlink("/proc/self/ns/pid").string());
  EXPECT_EQ(group, "2") << "the program leads its own process group";
}

TEST_F(Sandbox, ForkedDaemonIsGoneWhenTheProgramExits) {
  const std::string m = marker();
  auto start = Clock::now();
  auto r = netns::run_process(ns_, {"sh", "-c", "sleep " + m + " & echo started $!"}, {}, 10s);
  EXPECT_LT(Clock::now() - start, kPromptly);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("started"));
  EXPECT_EQ(processes_with(m), std::vector<std::string>{}) << "the backgrounded sleep survived";
}

TEST_F(Sandbox, StdoutHeldOpenByAChildDoesNotMakeKpathWait) {
  const std::string m = marker();
  auto start = Clock::now();
  // The subshell keeps the pipe open for 1000 s: only the program's exit ends the run.
  auto r = netns::run_process(ns_, {"sh", "-c", "(sleep " + m + ") & echo '*filter'; echo COMMIT"}, {}, 20s);
  EXPECT_LT(Clock::now() - start, kPromptly);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "*filter\nCOMMIT\n");
  EXPECT_EQ(processes_with(m), std::vector<std::string>{});
}

TEST_F(Sandbox, HungProgramIsKilledWithEverythingAndKeepsItsStderr) {
  const std::string m = marker();
  auto start = Clock::now();
  auto r = netns::run_process(ns_, {"sh", "-c", "echo waiting for the apiserver >&2; sleep " + m + " & sleep " + m}, {},
                              300ms);
  EXPECT_LT(Clock::now() - start, kPromptly);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.err_tail(), "waiting for the apiserver\n");
  EXPECT_EQ(processes_with(m), std::vector<std::string>{});
}

TEST_F(Sandbox, StopFlagEndsTheRunWithinATick) {
  const std::string m = marker();
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stop = true;
  });
  netns::ProcessOptions options;
  options.timeout = 30s;
  options.stop = &stop;
  auto start = Clock::now();
  auto r = netns::run_process(ns_, {"sh", "-c", "sleep " + m + " & sleep " + m}, options);
  stopper.join();
  EXPECT_LT(Clock::now() - start, kPromptly);
  EXPECT_TRUE(r.stopped);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(processes_with(m), std::vector<std::string>{});
}

TEST_F(Sandbox, ErrTailKeepsTheLastLines) {
  netns::ProcessResult r;
  r.err = "first line\nsecond line\nthird line\n";
  EXPECT_EQ(r.err_tail(15), "...third line\n");
  EXPECT_EQ(r.err_tail(100), r.err);
}

// SIGKILL of the process that started a sandbox (kpath) ends the sandbox.
TEST_F(Sandbox, SigkillOfTheStarterLeavesNothing) {
  for (bool daemon : {false, true}) {
    const std::string m = marker();
    pid_t child = fork();
    if (child == 0) {
      // Run from a thread that ends: neither form may depend on the starting thread.
      Namespace ns = Namespace::create();
      std::optional<Daemon> d;
      std::thread([&] {
        if (daemon) d.emplace(Daemon::start(ns, {"sh", "-c", "sleep " + m + " & sleep " + m}, {{}, "/dev/null", ""}));
        else netns::run_process(ns, {"sh", "-c", "sleep " + m + " & sleep " + m}, {}, 600s);
      }).detach();
      pause();
      _exit(0);
    }
    ASSERT_GT(child, 0);
    EXPECT_TRUE(eventually([&] { return processes_with(m).size() >= 2; })) << "the sandbox never started";
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    EXPECT_TRUE(eventually([&] { return processes_with(m).empty(); }, 2s))
        << (daemon ? "daemon" : "run_process") << ": processes left after SIGKILL of their starter";
  }
}

TEST_F(Sandbox, TmpAndRunArePrivate) {
  std::string host_file = "/tmp/kpath-sandbox-visible-" + std::to_string(getpid());
  std::ofstream(host_file) << "x";
  auto r = netns::run_process(ns_, {"sh", "-c",
                                    "test -e " + host_file +
                                        " && echo host-tmp-visible; "
                                        "stat -f -c %T /tmp /run; touch /tmp/mine /run/mine && echo wrote"});
  fs::remove(host_file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "tmpfs\ntmpfs\nwrote\n");
  EXPECT_FALSE(fs::exists("/tmp/mine"));
  EXPECT_FALSE(fs::exists("/run/mine"));
}

TEST_F(Sandbox, AWorkingDirectoryUnderTmpStaysVisible) {
  const std::string dir = "/tmp/kpath-sandbox-workdir-" + std::to_string(getpid());
  const std::string other = "/tmp/kpath-sandbox-other-" + std::to_string(getpid());
  fs::create_directories(dir + "/cases");
  std::ofstream(dir + "/gen.sh") << "echo generated\n";
  std::ofstream(other) << "x";
  netns::ProcessOptions options;
  options.workdir = dir + "/cases";
  auto r = netns::run_process(ns_,
                              {"sh", "-c",
                               "pwd; sh ../gen.sh; test -e " + other +
                                   " || echo other-hidden; "
                                   "touch ../made && stat -f -c %T /run"},
                              options);
  bool made = fs::exists(dir + "/made");
  fs::remove_all(dir);
  fs::remove(other);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, dir + "/cases\ngenerated\nother-hidden\ntmpfs\n");
  EXPECT_TRUE(made) << "the kept directory is the host's, not a copy";
}

TEST_F(Sandbox, HeldNamespacesOpenAtTheirPathsAndAreNotInherited) {
  Namespace pod = Namespace::create(), other = Namespace::create();
  netns::ProcessOptions options;
  options.held = {pod.fd(), other.fd()};
  ASSERT_EQ(netns::held_fd_path(1), "/proc/1/fd/8");
  // nsenter as a CNI plugin or an eBPF loader would use the path; fd 7 is the
  // init's, not the program's.
  auto r = netns::run_process(ns_,
                              {"sh", "-c",
                               "nsenter --net=" + netns::held_fd_path(0) + " readlink /proc/self/ns/net; readlink " +
                                   netns::held_fd_path(1) + "; test -e /proc/self/fd/7 || echo not-inherited"},
                              options);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "net:[" + std::to_string(pod.id()) + "]\nnet:[" + std::to_string(other.id()) + "]\nnot-inherited\n");
}

TEST_F(Sandbox, AProgramUnderTmpRuns) {
  const std::string program = "/tmp/kpath-sandbox-program-" + std::to_string(getpid());
  std::ofstream(program) << "#!/bin/sh\necho ran\n";
  fs::permissions(program, fs::perms::owner_all);
  auto r = netns::run_process(ns_, {program});
  fs::remove(program);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ran\n");
}

// Every writable /proc/sys setting outside net/ (counters such as file-nr are
// read-only; ns_last_pid moves with every fork on the host).
std::map<std::string, std::string> host_sysctls() {
  std::map<std::string, std::string> values;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator("/proc/sys", ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    const std::string path = it->path().string();
    if (path.starts_with("/proc/sys/net")) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || path == "/proc/sys/kernel/ns_last_pid") continue;
    if ((it->status(ec).permissions() & fs::perms::owner_write) == fs::perms::none) continue;
    if (::access(path.c_str(), R_OK) != 0) continue;
    values[path] = read_file(path);
  }
  return values;
}

std::map<std::string, std::string> stable_part(const std::map<std::string, std::string>& a,
                                               const std::map<std::string, std::string>& b) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : a)
    if (auto it = b.find(k); it != b.end() && it->second == v) out[k] = v;
  return out;
}

TEST_F(Sandbox, SysfsAndNetSysctlsReachTheNodeAndNothingElseOfTheHost) {
  auto sysctls_before = stable_part(host_sysctls(), host_sysctls());
  ASSERT_GT(sysctls_before.size(), 100u);
  const std::string host_lo_mtu = read_file("/sys/class/net/lo/mtu");
  const std::string host_forward = read_file("/proc/sys/net/ipv4/ip_forward");
  std::string host_links;
  for (const auto& e : fs::directory_iterator("/sys/class/net")) host_links += e.path().filename().string() + " ";

  // Writes the node's lo MTU and ip_forward; tries a non-net sysctl and a
  // non-net sysfs file with their current values (harmless if it got through).
  auto r = netns::run_process(
      ns_, {"sh", "-c",
            "ls /sys/class/net; echo 1400 > /sys/class/net/lo/mtu && echo mtu-written; "
            "echo 1 > /proc/sys/net/ipv4/ip_forward && echo forward-written; "
            "v=$(cat /proc/sys/vm/swappiness); echo $v > /proc/sys/vm/swappiness || echo sysctl-refused; "
            "v=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null | sed 's/.*\\[\\(.*\\)\\].*/\\1/'); "
            "echo $v > /sys/kernel/mm/transparent_hugepage/enabled || echo sysfs-refused; "
            "hostname kpath-sandbox-test || echo hostname-refused"});
  EXPECT_THAT(r.out, HasSubstr("lo\nmtu-written\nforward-written\nsysctl-refused\nsysfs-refused\n")) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Read-only file system"));

  // The node saw the writes.
  auto node = netns::run_process(ns_, {"sh", "-c", "cat /sys/class/net/lo/mtu /proc/sys/net/ipv4/ip_forward"});
  EXPECT_EQ(node.out, "1400\n1\n");
  EXPECT_EQ(ns_.run([] { return read_file("/proc/sys/net/ipv4/ip_forward"); }), "1\n");

  // The host did not.
  EXPECT_EQ(read_file("/sys/class/net/lo/mtu"), host_lo_mtu);
  EXPECT_EQ(read_file("/proc/sys/net/ipv4/ip_forward"), host_forward);
  std::string links_after;
  for (const auto& e : fs::directory_iterator("/sys/class/net")) links_after += e.path().filename().string() + " ";
  EXPECT_EQ(links_after, host_links);
  char host[256] = {};
  gethostname(host, sizeof host);
  EXPECT_STRNE(host, "kpath-sandbox-test");
  auto sysctls_after = host_sysctls();
  for (const auto& [path, value] : sysctls_before) EXPECT_EQ(sysctls_after[path], value) << path;
}

TEST_F(Sandbox, NetworkOnlyRunsSeeTheHostFiles) {
  std::string host_file = "/tmp/kpath-sandbox-visible-" + std::to_string(getpid());
  std::ofstream(host_file) << "x";
  netns::ProcessOptions options;
  options.isolation = netns::Isolation::kNetworkOnly;
  auto r = netns::run_process(ns_, {"sh", "-c", "cat " + host_file + "; readlink /proc/self/ns/net"}, options);
  fs::remove(host_file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "xnet:[" + std::to_string(ns_.id()) + "]\n");
}

// --- Daemon ---------------------------------------------------------------

TEST_F(Sandbox, DaemonRunsLogsAndStops) {
  const std::string m = marker(), log = scratch("daemon.log");
  std::ofstream(log) << "earlier run\n";
  Daemon d = Daemon::start(ns_, {"sh", "-c", "echo hello $KPATH_NODE from $(pwd); echo oops >&2; exec sleep " + m},
                           {{"KPATH_NODE=node-a"}, log, "/usr"});
  EXPECT_TRUE(d.running());
  EXPECT_TRUE(eventually([&] { return d.log_tail().find("oops") != std::string::npos; }));
  EXPECT_EQ(d.log_tail(), "earlier run\nhello node-a from /usr\noops\n");
  EXPECT_EQ(d.log_tail(5), "oops\n");
  ASSERT_GT(d.pid(), 0);
  // Read while the shell is inside execve, cmdline is empty (the new image's
  // arguments are not laid out yet): wait for the exec to finish.
  const std::string cmdline = "/proc/" + std::to_string(d.pid()) + "/cmdline";
  EXPECT_TRUE(eventually([&] { return read_file(cmdline).starts_with("sleep"); })) << read_file(cmdline);
  auto start = Clock::now();
  d.stop();
  EXPECT_LT(Clock::now() - start, kPromptly) << "sleep dies of SIGTERM at once";
  EXPECT_FALSE(d.running());
  EXPECT_EQ(d.pid(), 0);
  EXPECT_EQ(processes_with(m), std::vector<std::string>{});
}

TEST_F(Sandbox, DaemonIgnoringSigtermIsKilledAfterTheGrace) {
  const std::string m = marker();
  Daemon d = Daemon::start(ns_, {"sh", "-c", "trap '' TERM; sleep " + m + " & sleep " + m + " & wait"},
                           {{}, scratch("ignore.log"), ""});
  ASSERT_TRUE(eventually([&] { return processes_with(m).size() >= 2; }));
  auto start = Clock::now();
  d.stop(400ms);
  auto took = Clock::now() - start;
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 400ms + kPromptly);
  EXPECT_FALSE(d.running());
  EXPECT_EQ(processes_with(m), std::vector<std::string>{});
}

TEST_F(Sandbox, DaemonThatExitsTakesItsChildrenAlong) {
  const std::string m = marker();
  Daemon d = Daemon::start(ns_, {"sh", "-c", "sleep " + m + " & sleep 0.3; echo bye"}, {{}, scratch("exit.log"), ""});
  EXPECT_TRUE(eventually([&] { return !d.running(); }));
  EXPECT_EQ(processes_with(m), std::vector<std::string>{});
  EXPECT_EQ(d.log_tail(), "bye\n");
  d.stop();  // already over: returns at once
}

TEST_F(Sandbox, DaemonDestructorAndMoveLeaveNothing) {
  const std::string m = marker();
  {
    std::optional<Daemon> held;
    std::thread([&] { held.emplace(Daemon::start(ns_, {"sleep", m}, {{}, scratch("moved.log"), ""})); }).join();
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(held->running()) << "the daemon died with the thread that started it";
    Daemon moved = std::move(*held);
    EXPECT_TRUE(moved.running());
  }
  EXPECT_EQ(processes_with(m), std::vector<std::string>{});
}

TEST_F(Sandbox, DaemonStartFailuresAreErrors) {
  EXPECT_THROW(Daemon::start(ns_, {"kpath-no-such-program"}, {{}, scratch("x.log"), ""}), kpath::Error);
  try {
    Daemon::start(ns_, {"true"}, {{}, scratch("x.log"), "/tmp/kpath-not-in-the-sandbox"});
    FAIL() << "a workdir the sandbox cannot see started";
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("change to the working directory: No such file or directory"));
  }
  EXPECT_THROW(Daemon::start(ns_, {"true"}, {{}, "/nonexistent-dir/x.log", ""}), kpath::Error);
}

}  // namespace
