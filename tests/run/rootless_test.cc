// Rootless mode: kpath run as an unprivileged user (here nobody, switched to
// from root in a child) moves itself into a user namespace and runs the cases
// there; reports belong to the caller; SIGKILL leaves nothing behind. As root,
// --rootless asks for the same.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "netns/user_namespace.h"
#include "support/eventually.h"
#include "support/files.h"
#include "support/host_snapshot.h"
#include "support/privileges.h"
#include "support/processes.h"

namespace {

namespace fs = std::filesystem;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

constexpr uid_t kNobody = 65534;
const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";

std::string mark() { return kpath_test::env_mark("KPATH_ROOTLESS_TEST"); }

// A folder nobody (or uid) may write in, removed at the end.
struct ScratchDir {
  std::string path;
  explicit ScratchDir(uid_t uid = kNobody, gid_t gid = kNobody) {
    char tmpl[] = "/tmp/kpath-rootless-XXXXXX";
    path = ::mkdtemp(tmpl);
    if (::chown(path.c_str(), uid, gid) != 0) path.clear();
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// `program` as `uid` (no supplementary groups, no capabilities), in `dir`,
// with stdout and stderr to dir/out and dir/err, and XDG_RUNTIME_DIR=dir (so
// rootless --keep's markers stay in the test's folder).
pid_t spawn_program_as(uid_t uid, gid_t gid, const std::string& dir, const std::string& program,
                       const std::vector<std::string>& args) {
  std::string env = mark();
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::putenv(env.data());
  ::unsetenv("CI");
  ::setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
  int out = ::open((dir + "/out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = ::open((dir + "/err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
  if (::chdir(dir.c_str()) != 0 || ::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
      ::setresuid(uid, uid, uid) != 0)
    ::_exit(126);
  kpath_test::exec_or_exit(program, args);
}

pid_t spawn_as(uid_t uid, const std::string& dir, const std::vector<std::string>& args) {
  return spawn_program_as(uid, uid, dir, KPATH_BINARY, args);
}

// "  NAME -> LABEL (CASE, GENERATOR): COMMAND" lines of rootless --keep: LABEL -> COMMAND.
std::map<std::string, std::string> kept_commands(const std::string& out) {
  std::map<std::string, std::string> found;
  std::regex line(R"(^  \S+ -> (\S+) \(.*\): (nsenter .*)$)");
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, line)) found[m[1]] = m[2];
  }
  return found;
}

// The keeper markers rootless --keep wrote for the caller whose XDG_RUNTIME_DIR is dir.
std::vector<std::string> markers_in(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir + "/kpath/pins", ec)) out.push_back(e.path().string());
  return out;
}

// A user with a subordinate uid and gid range, when newuidmap and newgidmap
// are there to map them (CI makes one: ci/rootless-user.sh).
struct RangeUser {
  uid_t uid = 0;
  gid_t gid = 0;
  netns::SubordinateRange subuid;
};

std::optional<RangeUser> user_with_ranges() {
  if (::access("/usr/bin/newuidmap", X_OK) != 0 || ::access("/usr/bin/newgidmap", X_OK) != 0) return std::nullopt;
  const std::string subuid = kpath_test::read_file("/etc/subuid"), subgid = kpath_test::read_file("/etc/subgid");
  std::istringstream lines(subuid);
  for (std::string line; std::getline(lines, line);) {
    const passwd* pw = ::getpwnam(line.substr(0, line.find(':')).c_str());
    if (!pw || pw->pw_uid == 0) continue;
    auto u = netns::subordinate_range(subuid, pw->pw_name, pw->pw_uid);
    auto g = netns::subordinate_range(subgid, pw->pw_name, pw->pw_uid);
    if (u && g) return RangeUser{pw->pw_uid, pw->pw_gid, *u};
  }
  return std::nullopt;
}

// Processes (other than this test) whose environment carries the mark.
std::vector<std::string> marked_processes() { return kpath_test::processes_with("environ", mark()); }

// Ends whatever still carries the mark when a test leaves: a keeper that an
// ASSERT or a SKIP left running would outlive its marker folder, where no
// cleanup finds it. The tests' own checks for leftovers run before this.
struct EndMarkedAtExit {
  ~EndMarkedAtExit() {
    for (const auto& pid : marked_processes()) ::kill(std::stoi(pid), SIGKILL);
  }
};

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

// Rootless --keep: a kpath-keeper holds the namespaces after kpath exits; the
// printed nsenter command, run by the same unprivileged user, enters a pod's;
// root's cleanup leaves another user's keeper alone; the user's own cleanup
// ends it, and nothing remains.
TEST(Rootless, KeepHandsTheNamespacesToAKeeperThatTheUsersCleanupEnds) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  EndMarkedAtExit end_marked;
  auto before = kpath_test::HostSnapshot::take();
  int status = kpath_test::wait_exit(spawn_as(kNobody, dir.path, {"run", "--keep", "-g", "kube-nftables", kSeed}));
  std::string out = kpath_test::read_file(dir.path + "/out"), err = kpath_test::read_file(dir.path + "/err");
  ASSERT_EQ(status, 0) << out << err;
  EXPECT_THAT(out, HasSubstr("Kept namespaces (held by kpath-keeper pid "));
  auto commands = kept_commands(out);
  const std::string pod = "webapp1-nodeport-deployment-785989576b-cjc5b";
  ASSERT_EQ(commands.count(pod), 1u) << out;
  EXPECT_EQ(commands.size(), 6u) << "fabric, sink, node, 2 pods, client:\n" << out;
  ASSERT_EQ(markers_in(dir.path).size(), 1u);
  ASSERT_EQ(marked_processes().size(), 1u) << "the keeper, and only it, outlives kpath";
  EXPECT_EQ(kpath_test::read_file("/proc/" + marked_processes()[0] + "/comm"), "kpath-keeper\n");

  // The command as printed, by the same user, without privileges.
  status = kpath_test::wait_exit(
      spawn_program_as(kNobody, kNobody, dir.path, "/bin/sh", {"-c", commands[pod] + " ip -4 -br addr"}));
  std::string entered = kpath_test::read_file(dir.path + "/out") + kpath_test::read_file(dir.path + "/err");
  EXPECT_EQ(status, 0) << entered;
  EXPECT_THAT(entered, HasSubstr("10.32.0.3/"));

  // Root's cleanup: root's pins and root's own keepers only.
  ScratchDir root_dir;
  status = kpath_test::wait_exit(spawn_as(0, root_dir.path, {"cleanup"}));
  EXPECT_EQ(status, 0) << kpath_test::read_file(root_dir.path + "/err");
  EXPECT_EQ(marked_processes().size(), 1u) << "root's cleanup ended nobody's keeper";

  status = kpath_test::wait_exit(spawn_as(kNobody, dir.path, {"cleanup"}));
  out = kpath_test::read_file(dir.path + "/out");
  EXPECT_EQ(status, 0) << out;
  EXPECT_THAT(out, HasSubstr("removed kpath-"));
  EXPECT_THAT(out, HasSubstr("now ended"));
  kpath_test::eventually([] { return marked_processes().empty(); }, std::chrono::seconds(2));
  EXPECT_EQ(marked_processes(), std::vector<std::string>{});
  EXPECT_EQ(markers_in(dir.path), std::vector<std::string>{});
  auto after = kpath_test::HostSnapshot::settled_to(before);
  EXPECT_TRUE(before == after) << before.difference(after);
}

// Interrupted after its first run, rootless --keep keeps what it kept so
// far, as root keeps the pins made so far; the user's cleanup ends it.
TEST(Rootless, AnInterruptedKeepKeepsTheNamespacesKeptSoFar) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  EndMarkedAtExit end_marked;
  auto before = kpath_test::HostSnapshot::take();
  // The second run's generator hangs, so the SIGINT finds it running.
  pid_t pid = spawn_as(kNobody, dir.path,
                       {"run", "--keep", "-j", "1", "-g", "kube-iptables", "-g", "exec:sleep 60", kSeed});
  // The first run has finished: its namespaces are with the keeper.
  bool first_done = kpath_test::eventually(
      [&] { return kpath_test::read_file(dir.path + "/err").find("[1/2]") != std::string::npos; },
      std::chrono::seconds(60));
  ::kill(pid, SIGINT);
  int status = kpath_test::wait_exit(pid);
  std::string out = kpath_test::read_file(dir.path + "/out"), err = kpath_test::read_file(dir.path + "/err");
  ASSERT_TRUE(first_done) << err;
  if (err.find("[2/2] PASS") != std::string::npos)
    GTEST_SKIP() << "both runs finished before the SIGINT: nothing tested";
  EXPECT_EQ(status, 130) << out << err;
  EXPECT_THAT(out, HasSubstr("Kept namespaces (held by kpath-keeper pid "));
  EXPECT_GE(kept_commands(out).size(), 6u) << "at least the first run's fabric, sink, node, 2 pods, client:\n" << out;
  EXPECT_EQ(markers_in(dir.path).size(), 1u);
  EXPECT_EQ(marked_processes().size(), 1u) << "the keeper, and only it, outlives kpath";

  status = kpath_test::wait_exit(spawn_as(kNobody, dir.path, {"cleanup"}));
  EXPECT_EQ(status, 0) << kpath_test::read_file(dir.path + "/out");
  kpath_test::eventually([] { return marked_processes().empty(); }, std::chrono::seconds(2));
  EXPECT_EQ(marked_processes(), std::vector<std::string>{});
  auto after = kpath_test::HostSnapshot::settled_to(before);
  EXPECT_TRUE(before == after) << before.difference(after);
}

// A program's own iptables-restore of a large ruleset is refused in the user
// namespace ("Message too long"); its ERROR names the host sysctl behind it.
TEST(Rootless, AProgramsOwnMessageTooLongNamesTheSysctl) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  const std::string program =
      "exec:(echo '*nat'; echo ':X - [0:0]'; seq 1 20000 | sed 's/.*/-A X -m comment --comment c& -j RETURN/'; "
      "echo COMMIT) | iptables-nft-restore";
  int status = kpath_test::wait_exit(spawn_as(kNobody, dir.path, {"run", "-g", program, kSeed}));
  std::string out = kpath_test::read_file(dir.path + "/out"), err = kpath_test::read_file(dir.path + "/err");
  if (out.find("Message too long") == std::string::npos)
    GTEST_SKIP() << "this host's net.core.wmem_default holds the whole batch: nothing was refused";
  EXPECT_EQ(status, 3) << out << err;
  EXPECT_THAT(out, HasSubstr("(Message too long: in a user namespace a netlink socket's send buffer stays at the "
                             "host's net.core.wmem_default ("));
  EXPECT_THAT(out, HasSubstr("an administrator can raise that host sysctl"));
}

// With subordinate ranges, uid 1.. inside maps to them: the uid_map a
// program kpath started sees (an exec: generator that prints it and fails,
// so kpath shows it in the ERROR) has two lines.
TEST(Rootless, AUserWithSubordinateRangesHasThemMappedInside) {
  REQUIRE_ROOTLESS_POSSIBLE();
  auto user = user_with_ranges();
  if (!user)
    GTEST_SKIP() << "no user here has both a /etc/subuid and a /etc/subgid range, or newuidmap/newgidmap "
                    "(package uidmap) are missing; CI makes one: ci/rootless-user.sh";
  ScratchDir dir(user->uid, user->gid);
  int status = kpath_test::wait_exit(spawn_program_as(user->uid, user->gid, dir.path, KPATH_BINARY,
                                                      {"run", "-g", "exec:cat /proc/self/uid_map >&2; exit 1", kSeed}));
  std::string out = kpath_test::read_file(dir.path + "/out"), err = kpath_test::read_file(dir.path + "/err");
  EXPECT_EQ(status, 3) << out << err;
  EXPECT_THAT(err, HasSubstr("(newuidmap/newgidmap)"));
  const std::string start = std::to_string(user->subuid.start), count = std::to_string(user->subuid.count);
  EXPECT_THAT(out, ContainsRegex("failed \\(exit 1\\): +0 +" + std::to_string(user->uid) + " +1\n +1 +" + start + " +" +
                                 count + "\n"))
      << "uid_map inside: 0 -> the caller, 1.. -> its range";
}

TEST(Rootless, SigkillLeavesNothingBehind) {
  REQUIRE_ROOTLESS_POSSIBLE();
  ScratchDir dir;
  EndMarkedAtExit end_marked;
  auto before = kpath_test::HostSnapshot::take();
  // --keep too: its keeper ends with a kpath that never handed it the namespaces.
  for (auto [delay_ms, keep] : {std::pair{50, false}, {300, false}, {900, false}, {50, true}, {400, true}}) {
    // --keep runs both generators one after the other: still running at the kill.
    std::vector<std::string> args = {"run", "-g", "kube-iptables", kSeed};
    if (keep) args = {"run", "--keep", "-j", "1", kSeed};
    pid_t pid = spawn_as(kNobody, dir.path, args);
    // /proc/PID/environ shows the mark once the child has become kpath (exec);
    // a mark that never shows would leave the leftover check below blind.
    EXPECT_TRUE(kpath_test::eventually([] { return !marked_processes().empty(); }, std::chrono::seconds(5)))
        << "the mark does not find kpath itself";
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    if (keep && ::waitpid(pid, nullptr, WNOHANG) != 0) {  // it finished: its keeper rightly stays; end it
      kpath_test::wait_exit(spawn_as(kNobody, dir.path, {"cleanup"}));
      ADD_FAILURE() << "kpath --keep ended before the kill at " << delay_ms << " ms: nothing was tested";
      continue;
    }
    ::kill(pid, SIGKILL);
    kpath_test::wait_exit(pid);
    kpath_test::eventually([] { return marked_processes().empty(); }, std::chrono::seconds(2));
    EXPECT_EQ(marked_processes(), std::vector<std::string>{}) << "processes left after a kill at " << delay_ms << " ms";
    auto after = kpath_test::HostSnapshot::settled_to(before);
    EXPECT_TRUE(before == after) << "leftovers after a kill at " << delay_ms << " ms:\n" << before.difference(after);
    EXPECT_EQ(markers_in(dir.path), std::vector<std::string>{}) << "a keeper marker after a kill at " << delay_ms;
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
