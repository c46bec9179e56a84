// --keep pins a run's namespaces (rules and all) under names `ip netns exec`
// accepts; on a terminal the pods keep answering until Enter; `kpath cleanup`
// removes the pins of exited kpath runs only: never a running one's, never a
// name made by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "harness/host/cleanup.h"
#include "netns/keeper.h"
#include "netns/namespace.h"
#include "netns/pins.h"
#include "netns/process.h"
#include "support/files.h"
#include "support/privileges.h"
#include "support/processes.h"

namespace {

namespace fs = std::filesystem;
using testing::HasSubstr;

const std::string kKpath = KPATH_BINARY;
const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";

std::set<std::string> kpath_pins() {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/netns", ec))
    if (e.path().filename().string().starts_with("kpath-")) out.insert(e.path().string());
  return out;
}

std::string shell(const std::string& cmd, int* rc = nullptr) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int status = pclose(p);
  if (rc) *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// "  NAME -> LABEL (CASE, GENERATOR)" lines of the pinned list: NAME -> LABEL.
std::map<std::string, std::string> printed_pins(const std::string& out) {
  std::map<std::string, std::string> pins;
  std::regex line(R"(^  (\S+) -> (\S+) \()");
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    std::smatch m;
    if (std::regex_search(l, m, line)) pins[m[1]] = m[2];
  }
  return pins;
}

// kpath on a pseudo-terminal, as a user at a shell would start it.
class PtyKpath {
 public:
  explicit PtyKpath(const std::vector<std::string>& args) {
    pid_ = forkpty(&master_, nullptr, nullptr, nullptr);
    if (pid_ == 0) kpath_test::exec_or_exit(kKpath, args);
  }
  ~PtyKpath() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      wait();
    }
    if (master_ >= 0) close(master_);
  }
  bool started() const { return pid_ > 0; }

  bool read_until(const std::string& text, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = read(master_, buf, sizeof buf);
      if (n <= 0) return out_.find(text) != std::string::npos;
      out_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  void send(const std::string& s) { (void)!write(master_, s.data(), s.size()); }
  int wait() {
    int status = 0;
    // Drain what is left so kpath never blocks on a full terminal.
    while (waitpid(pid_, &status, WNOHANG) == 0) read_until("\x01never\x01", std::chrono::seconds(0));
    pid_ = -1;
    return kpath_test::exit_code_of(status);
  }
  const std::string& out() const { return out_; }

 private:
  pid_t pid_ = -1;
  int master_ = -1;
  std::string out_;
};

// The seed case with its first pod renamed to the longest name the loader
// takes (63 characters): its pin name has to be shortened.
std::string long_name_case(const std::string& pod) {
  std::string s = std::regex_replace(kpath_test::read_file(kSeed),
                                     std::regex("webapp1-nodeport-deployment-785989576b-cjc5b"), pod);
  std::string path = fs::temp_directory_path() / ("kpath-keep-long-" + std::to_string(getpid()) + ".yaml");
  std::ofstream(path) << s;
  return path;
}

TEST(Keep, PinnedNamespacesHoldTheRulesUntilCleanup) {
  KPATH_REQUIRE_NET_ADMIN();
  auto before = kpath_pins();
  // stdin not a terminal: kpath does not wait, and says nothing listens.
  int rc = 0;
  std::string out = shell(kKpath + " run --keep -j1 -g kube-iptables -g kube-iptables " + kSeed + " </dev/null", &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_THAT(out, HasSubstr("Nothing listens in the pinned pods"));
  EXPECT_THAT(out, HasSubstr("stdin is not a terminal"));
  auto after = kpath_pins();
  std::vector<std::string> mine;
  for (const auto& p : after)
    if (!before.count(p)) mine.push_back(p);
  EXPECT_EQ(mine.size(), 12u) << "two runs of fabric, sink, node, two pods and a client";
  EXPECT_EQ(printed_pins(out).size(), 12u) << out;

  // The node's rules are still there, inside the pinned namespace.
  std::string node;
  for (const auto& p : mine)
    if (p.size() > 7 && p.substr(p.size() - 7) == "-master") node = p;
  ASSERT_FALSE(node.empty());
  auto saved = netns::run_process(netns::Namespace::open(node), {"iptables-nft-save", "-t", "nat"});
  // The seed Service's chain as kube-proxy >= 1.19 names its unnamed port.
  EXPECT_NE(saved.out.find("KUBE-SVC-X42AMYO3K4UIBY54"), std::string::npos) << saved.out;

  out = shell(kKpath + " cleanup", &rc);
  EXPECT_EQ(rc, 0);
  for (const auto& p : mine) {
    EXPECT_FALSE(fs::exists(p)) << p;
    EXPECT_THAT(out, HasSubstr("removed " + fs::path(p).filename().string()));
  }
}

// A running --keep (waiting on its terminal), a finished --keep and a name
// made by hand, side by side: cleanup removes only the finished run's pins.
TEST(Keep, OnATerminalPodsAnswerUntilEnterAndCleanupSparesTheRunningKpath) {
  KPATH_REQUIRE_NET_ADMIN();
  const std::string hand = "kpath-foo-" + std::to_string(getpid());
  int rc = 0;
  ASSERT_EQ((shell("ip netns add " + hand, &rc), rc), 0);
  struct Guard {
    std::string hand;
    ~Guard() { shell("ip netns delete " + hand); }
  } guard{hand};

  const std::string pod(63, 'p');
  const std::string long_case = long_name_case(pod);
  PtyKpath waiting({"run", "--keep", "-j1", "-g", "kube-iptables", long_case});
  ASSERT_TRUE(waiting.started());
  ASSERT_TRUE(waiting.read_until("Press Enter", std::chrono::seconds(120))) << waiting.out();
  auto live = printed_pins(waiting.out());
  ASSERT_EQ(live.size(), 6u) << waiting.out();

  // Every printed name is what `ip netns exec` takes, the long pod's too.
  std::string client, long_pod;
  for (const auto& [name, label] : live) {
    EXPECT_LE(name.size(), netns::kMaxPinName);
    EXPECT_EQ((shell("ip netns exec " + name + " true", &rc), rc), 0) << name;
    if (label == "client") client = name;
    if (label == pod) long_pod = name;
  }
  ASSERT_FALSE(long_pod.empty()) << waiting.out();
  EXPECT_NE(long_pod.find(pod.substr(0, 20)), std::string::npos) << long_pod;
  // The pods still answer: through the NodePort from the client, and in the long-named pod itself.
  std::string reply = shell("ip netns exec " + client +
                                " timeout 5 bash -c 'exec 3<>/dev/tcp/192.168.100.1/30080; cat <&3'",
                            &rc);
  EXPECT_EQ(rc, 0) << reply;
  EXPECT_THAT(reply, testing::AnyOf(HasSubstr(pod), HasSubstr("webapp1-nodeport-deployment-785989576b-tpfqr")));
  reply = shell("ip netns exec " + long_pod + " timeout 5 bash -c 'exec 3<>/dev/tcp/10.32.0.3/80; cat <&3'", &rc);
  EXPECT_THAT(reply, HasSubstr(pod));

  // A --keep that has exited (stdin no terminal).
  std::string done = shell(kKpath + " run --keep -j1 -g kube-iptables " + kSeed + " </dev/null", &rc);
  ASSERT_EQ(rc, 0) << done;
  auto finished = printed_pins(done);
  ASSERT_EQ(finished.size(), 6u) << done;

  std::string cleaned = shell(kKpath + " cleanup", &rc);
  EXPECT_EQ(rc, 0) << cleaned;
  for (const auto& [name, label] : finished) {
    EXPECT_FALSE(fs::exists("/run/netns/" + name)) << name;
    EXPECT_THAT(cleaned, HasSubstr("removed " + name + "\n"));
  }
  for (const auto& [name, label] : live) {
    EXPECT_TRUE(fs::exists("/run/netns/" + name)) << name << "\n" << cleaned;
    EXPECT_THAT(cleaned, HasSubstr("kept " + name + " (kpath pid"));
  }
  EXPECT_TRUE(fs::exists("/run/netns/" + hand)) << cleaned;
  EXPECT_THAT(cleaned, HasSubstr("left " + hand + " (no kpath marker"));

  // Enter ends the wait; the run's own status comes back.
  waiting.send("\n");
  EXPECT_TRUE(waiting.read_until("Echo servers stopped", std::chrono::seconds(30))) << waiting.out();
  EXPECT_EQ(waiting.wait(), 0) << waiting.out();
  cleaned = shell(kKpath + " cleanup", &rc);
  for (const auto& [name, label] : live) EXPECT_FALSE(fs::exists("/run/netns/" + name)) << name << "\n" << cleaned;
  EXPECT_TRUE(fs::exists("/run/netns/" + hand));
  fs::remove(long_case);
}

// Markers decide, not names: a marker whose owner exited but whose pin now
// holds another namespace leaves that pin alone.
TEST(Keep, CleanupRemovesOnlyPinsStillHoldingTheRecordedNamespace) {
  KPATH_REQUIRE_NET_ADMIN();
  std::string dir = fs::temp_directory_path() / ("kpath-cleanup-test-" + std::to_string(getpid()));
  netns::PinDirs dirs{dir + "/netns", dir + "/markers"};
  fs::create_directories(dirs.markers);
  pid_t child = fork();
  if (child == 0) _exit(0);
  auto gone = netns::ProcessId::of(child);
  ASSERT_TRUE(gone.has_value());
  waitpid(child, nullptr, 0);

  auto a = netns::Namespace::create(), b = netns::Namespace::create();
  a.pin(dirs.pins + "/kpath-x-exited");
  b.pin(dirs.pins + "/kpath-x-replaced");
  std::ofstream(dirs.markers + "/kpath-x-exited") << netns::PinMarker{"kpath-x-exited", *gone, a.id(), "a"}.text();
  std::ofstream(dirs.markers + "/kpath-x-replaced") << netns::PinMarker{"kpath-x-replaced", *gone, a.id(), "b"}.text();
  auto r = harness::cleanup_pinned(dirs);
  EXPECT_THAT(r.removed, testing::ElementsAre("kpath-x-exited"));
  EXPECT_FALSE(fs::exists(dirs.pins + "/kpath-x-exited"));
  EXPECT_TRUE(fs::exists(dirs.pins + "/kpath-x-replaced"));
  EXPECT_THAT(r.not_ours, testing::ElementsAre("kpath-x-replaced")) << "its stale marker is gone now";
  netns::Namespace::unpin(dirs.pins + "/kpath-x-replaced");
  fs::remove_all(dir);
}

// Rootless keepers: a marker whose kpath still runs stays; one whose
// recorded keeper is some other live process (here this test: pid and start
// match, but it is not a kpath-keeper) is never signalled, only its marker goes.
TEST(Keep, CleanupOfKeepersSparesARunningKpathAndSignalsOnlyKeepers) {
  std::string dir = fs::temp_directory_path() / ("kpath-cleanup-kept-" + std::to_string(getpid()));
  fs::create_directories(dir);
  pid_t child = fork();
  if (child == 0) _exit(0);
  auto gone = netns::ProcessId::of(child);
  ASSERT_TRUE(gone.has_value());
  waitpid(child, nullptr, 0);
  const auto self = netns::ProcessId::self();
  netns::KeeperMarker running{"", self, self, getuid(), {{"kpath-r-fabric", 5, 1, "fabric"}}};
  netns::KeeperMarker impostor{"", self, *gone, getuid(), {{"kpath-i-fabric", 5, 1, "fabric"}}};
  std::ofstream(dir + "/keeper-1.1") << running.text();
  std::ofstream(dir + "/keeper-2.2") << impostor.text();
  auto r = harness::cleanup_kept(dir, getuid());
  EXPECT_THAT(r.in_use, testing::ElementsAre(HasSubstr("kpath-r-fabric (kpath pid")));
  EXPECT_THAT(r.removed, testing::ElementsAre(HasSubstr("kpath-i-fabric (kpath-keeper pid")));
  EXPECT_TRUE(fs::exists(dir + "/keeper-1.1"));
  EXPECT_FALSE(fs::exists(dir + "/keeper-2.2"));
  fs::remove_all(dir);
}

}  // namespace
