// Rootless mode: kpath run as an unprivileged user (here nobody, switched to
// from root in a child) moves itself into a user namespace and runs the cases
// there; reports belong to the caller; SIGKILL leaves nothing behind. As root,
// --rootless asks for the same.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "netns/user_namespace.h"
#include "support/host_snapshot.h"
#include "support/privileges.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr uid_t kNobody = 65534;
const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";

std::string mark() { return "KPATH_ROOTLESS_TEST=" + std::to_string(getpid()); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A folder nobody may write in, removed at the end.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    char tmpl[] = "/tmp/kpath-rootless-XXXXXX";
    path = ::mkdtemp(tmpl);
    if (::chown(path.c_str(), kNobody, kNobody) != 0) path.clear();
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// kpath as `uid` (no supplementary groups, no capabilities), in `dir`, with
// stdout and stderr to dir/out and dir/err.
pid_t spawn_as(uid_t uid, const std::string& dir, const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::putenv(::strdup(mark().c_str()));
  ::unsetenv("CI");
  int out = ::open((dir + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = ::open((dir + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
  if (::chdir(dir.c_str()) != 0 || ::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 ||
      ::setresuid(uid, uid, uid) != 0)
    ::_exit(126);
  std::vector<char*> argv;
  std::string bin = KPATH_BINARY;
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(bin.c_str(), argv.data());
  ::_exit(127);
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Processes (other than this test) whose environment carries the mark.
std::vector<std::string> marked_processes() {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string pid = entry.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(getpid())) continue;
    if (read_file((entry.path() / "environ").string()).find(mark()) != std::string::npos) found.push_back(pid);
  }
  return found;
}

// Why nobody cannot run kpath here, or "".
std::string why_not_rootless() {
  if (geteuid() != 0) return "needs root to switch to user nobody";
  auto blockers = netns::user_namespace_blockers();
  if (!blockers.empty()) return "unprivileged user namespaces are blocked: " + blockers.front();
  ScratchDir dir;
  if (dir.path.empty()) return "cannot make a folder for nobody";
  if (wait_exit(spawn_as(kNobody, dir.path, {"--version"})) != 0)
    return "nobody cannot run " + std::string(KPATH_BINARY) + " (a folder on its path is closed to others)";
  return "";
}

#define REQUIRE_ROOTLESS_POSSIBLE()                    \
  do {                                                 \
    KPATH_REQUIRE_NET_ADMIN();                         \
    std::string why = why_not_rootless();              \
    if (!why.empty()) GTEST_SKIP() << why;             \
  } while (0)

TEST(Rootless, AnUnprivilegedUserRunsTheSeedCaseAndOwnsTheReport) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  auto before = kpath_test::HostSnapshot::take();
  int status = wait_exit(spawn_as(kNobody, dir.path, {"run", "--junit", "report.xml", kSeed}));
  std::string out = read_file(dir.path + "/out"), err = read_file(dir.path + "/err");
  EXPECT_EQ(status, 0) << out << err;
  EXPECT_THAT(err, HasSubstr("kpath: rootless: in a user namespace (uid 65534 -> 0, gid 65534 -> 0)"));
  EXPECT_THAT(out, HasSubstr("8 passed, 0 failed, 0 errors, 0 skipped"));
  struct stat st {};
  ASSERT_EQ(::stat((dir.path + "/report.xml").c_str(), &st), 0) << "no JUnit file";
  EXPECT_EQ(st.st_uid, kNobody) << "the report belongs to the caller";
  for (int t = 0; t < 50 && !(before == kpath_test::HostSnapshot::take()); ++t)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto after = kpath_test::HostSnapshot::take();
  EXPECT_TRUE(before == after) << before.difference(after);
}

TEST(Rootless, RootAsksForItWithTheFlag) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  int status = wait_exit(spawn_as(0, dir.path, {"run", "--rootless", "-g", "kube-nftables", kSeed}));
  std::string out = read_file(dir.path + "/out"), err = read_file(dir.path + "/err");
  EXPECT_EQ(status, 0) << out << err;
  EXPECT_THAT(err, HasSubstr("kpath: rootless: in a user namespace (uid 0 -> 0, gid 0 -> 0)"));
  EXPECT_THAT(out, HasSubstr("4 passed, 0 failed"));
}

TEST(Rootless, KeepIsRefusedBeforeAnythingIsBuilt) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  int status = wait_exit(spawn_as(kNobody, dir.path, {"run", "--keep", kSeed}));
  std::string out = read_file(dir.path + "/out"), err = read_file(dir.path + "/err");
  EXPECT_EQ(status, 2) << out << err;
  EXPECT_THAT(err, HasSubstr("--keep is not available in rootless mode yet"));
  EXPECT_EQ(out, "");
}

TEST(Rootless, SigkillLeavesNothingBehind) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  auto before = kpath_test::HostSnapshot::take();
  for (int delay_ms : {50, 300, 900}) {
    pid_t pid = spawn_as(kNobody, dir.path, {"run", "-g", "kube-iptables", kSeed});
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    wait_exit(pid);
    for (int t = 0; t < 100 && !marked_processes().empty(); ++t)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(marked_processes(), std::vector<std::string>{}) << "processes left after a kill at " << delay_ms << " ms";
    for (int t = 0; t < 50 && !(before == kpath_test::HostSnapshot::take()); ++t)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto after = kpath_test::HostSnapshot::take();
    EXPECT_TRUE(before == after) << "leftovers after a kill at " << delay_ms << " ms:\n" << before.difference(after);
  }
}

TEST(Rootless, DoctorAsNobodyTriesTheFeaturesInsideAUserNamespace) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  int status = wait_exit(spawn_as(kNobody, dir.path, {"doctor"}));
  std::string out = read_file(dir.path + "/out"), err = read_file(dir.path + "/err");
  EXPECT_THAT(out, HasSubstr("Rootless readiness"));
  EXPECT_THAT(out, HasSubstr("user namespaces              allowed"));
  EXPECT_THAT(out, HasSubstr("nf_nat                       ok"));
  EXPECT_EQ(status, 0) << out << err;
}

}  // namespace
