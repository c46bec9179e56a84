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

#include <filesystem>
#include <thread>

#include "netns/user_namespace.h"
#include "support/eventually.h"
#include "support/files.h"
#include "support/host_snapshot.h"
#include "support/privileges.h"
#include "support/processes.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr uid_t kNobody = 65534;
const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";

std::string mark() { return kpath_test::env_mark("KPATH_ROOTLESS_TEST"); }

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
  std::string env = mark();
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::putenv(env.data());
  ::unsetenv("CI");
  int out = ::open((dir + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = ::open((dir + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
  if (::chdir(dir.c_str()) != 0 || ::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 ||
      ::setresuid(uid, uid, uid) != 0)
    ::_exit(126);
  kpath_test::exec_or_exit(KPATH_BINARY, args);
}

// Processes (other than this test) whose environment carries the mark.
std::vector<std::string> marked_processes() { return kpath_test::processes_with("environ", mark()); }

// Why nobody cannot run kpath here, or "".
std::string why_not_rootless() {
  if (geteuid() != 0) return "needs root to switch to user nobody";
  auto blockers = netns::user_namespace_blockers();
  if (!blockers.empty()) return "unprivileged user namespaces are blocked: " + blockers.front();
  ScratchDir dir;
  if (dir.path.empty()) return "cannot make a folder for nobody";
  if (kpath_test::wait_exit(spawn_as(kNobody, dir.path, {"--version"})) != 0)
    return "nobody cannot run " + std::string(KPATH_BINARY) + " (a folder on its path is closed to others)";
  return "";
}

#define REQUIRE_ROOTLESS_POSSIBLE()        \
  do {                                     \
    KPATH_REQUIRE_NET_ADMIN();             \
    std::string why = why_not_rootless();  \
    if (!why.empty()) GTEST_SKIP() << why; \
  } while (0)

TEST(Rootless, AnUnprivilegedUserRunsTheSeedCaseAndOwnsTheReport) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  auto before = kpath_test::HostSnapshot::take();
  int status = kpath_test::wait_exit(spawn_as(kNobody, dir.path, {"run", "--junit", "report.xml", kSeed}));
  std::string out = kpath_test::read_file(dir.path + "/out"), err = kpath_test::read_file(dir.path + "/err");
  EXPECT_EQ(status, 0) << out << err;
  EXPECT_THAT(err, HasSubstr("kpath: rootless: in a user namespace (uid 65534 -> 0, gid 65534 -> 0)"));
  EXPECT_THAT(out, HasSubstr("8 passed, 0 failed, 0 errors, 0 skipped"));
  struct stat st {};
  ASSERT_EQ(::stat((dir.path + "/report.xml").c_str(), &st), 0) << "no JUnit file";
  EXPECT_EQ(st.st_uid, kNobody) << "the report belongs to the caller";
  auto after = kpath_test::HostSnapshot::settled_to(before);
  EXPECT_TRUE(before == after) << before.difference(after);
}

TEST(Rootless, RootAsksForItWithTheFlag) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  int status = kpath_test::wait_exit(spawn_as(0, dir.path, {"run", "--rootless", "-g", "kube-nftables", kSeed}));
  std::string out = kpath_test::read_file(dir.path + "/out"), err = kpath_test::read_file(dir.path + "/err");
  EXPECT_EQ(status, 0) << out << err;
  EXPECT_THAT(err, HasSubstr("kpath: rootless: in a user namespace (uid 0 -> 0, gid 0 -> 0)"));
  EXPECT_THAT(out, HasSubstr("4 passed, 0 failed"));
}

TEST(Rootless, KeepIsRefusedBeforeAnythingIsBuilt) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  int status = kpath_test::wait_exit(spawn_as(kNobody, dir.path, {"run", "--keep", kSeed}));
  std::string out = kpath_test::read_file(dir.path + "/out"), err = kpath_test::read_file(dir.path + "/err");
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
    // /proc/PID/environ shows the mark once the child has become kpath (exec);
    // a mark that never shows would leave the leftover check below blind.
    EXPECT_TRUE(kpath_test::eventually([] { return !marked_processes().empty(); }, std::chrono::seconds(5)))
        << "the mark does not find kpath itself";
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    kpath_test::wait_exit(pid);
    kpath_test::eventually([] { return marked_processes().empty(); }, std::chrono::seconds(2));
    EXPECT_EQ(marked_processes(), std::vector<std::string>{}) << "processes left after a kill at " << delay_ms << " ms";
    auto after = kpath_test::HostSnapshot::settled_to(before);
    EXPECT_TRUE(before == after) << "leftovers after a kill at " << delay_ms << " ms:\n" << before.difference(after);
  }
}

TEST(Rootless, DoctorAsNobodyTriesTheFeaturesInsideAUserNamespace) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  int status = kpath_test::wait_exit(spawn_as(kNobody, dir.path, {"doctor"}));
  std::string out = kpath_test::read_file(dir.path + "/out"), err = kpath_test::read_file(dir.path + "/err");
  EXPECT_THAT(out, HasSubstr("Rootless readiness"));
  EXPECT_THAT(out, HasSubstr("user namespaces              allowed"));
  EXPECT_THAT(out, HasSubstr("nf_nat                       ok"));
  EXPECT_EQ(status, 0) << out << err;
}

}  // namespace
