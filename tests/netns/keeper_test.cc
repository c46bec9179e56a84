// Rootless --keep's keeper: holds namespaces by fd, outlives its parent only
// once committed, writes a marker that names it and each namespace, and
// ends on end_keeper; markers round-trip; the pin folder is the caller's own.
#include "netns/keeper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "base/error.h"
#include "base/file.h"
#include "netns/namespace.h"
#include "support/eventually.h"
#include "support/privileges.h"

namespace {

namespace fs = std::filesystem;
using netns::KeeperMarker;
using testing::HasSubstr;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/kpath-keeper-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A committed keeper outlives its Keeper: ends it if a failed assertion left it.
struct Reaper {
  int pid = 0;
  ~Reaper() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

bool process_exists(int pid) { return ::kill(pid, 0) == 0; }

// The inode of what /proc/PID/fd/FD refers to.
unsigned long inode_of(int pid, int fd) {
  struct stat st {};
  std::string path = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST(UserPinDir, TheRuntimeDirWhenTheCallerOwnsItElseAPerUserFolderInTmp) {
  EXPECT_EQ(netns::user_pin_dir(1000, "/run/user/1000", true), "/run/user/1000/kpath/pins");
  // sudo keeps the caller's XDG_RUNTIME_DIR: root must not use it.
  EXPECT_EQ(netns::user_pin_dir(0, "/run/user/1000", false), "/tmp/kpath-0/pins");
  EXPECT_EQ(netns::user_pin_dir(65534, std::nullopt, false), "/tmp/kpath-65534/pins");
  EXPECT_EQ(netns::user_pin_dir(1000, "", true), "/tmp/kpath-1000/pins");
}

TEST(KeeperMarker, RoundTripsWithEveryNamespaceAndLabelsWithSpaces) {
  KeeperMarker m;
  m.keeper = {4242, 987654};
  m.owner = {4200, 987000};
  m.uid = 65534;
  m.namespaces = {{"kpath-1-1-fabric", 5, 4026532000, "fabric"}, {"kpath-1-1-a_b-1234abcd", 6, 4026532001, "a b"}};
  auto back = KeeperMarker::parse(m.text());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}

TEST(KeeperMarker, RefusesWhatIsNotOne) {
  EXPECT_FALSE(KeeperMarker::parse(""));
  EXPECT_FALSE(KeeperMarker::parse("kpath-pin v1\npid 1\n"));
  EXPECT_FALSE(KeeperMarker::parse("kpath-keeper v1\nkeeper 1 2\nuid 0\n"));  // no owner
  EXPECT_FALSE(KeeperMarker::parse("kpath-keeper v1\nkeeper 1 2\nowner 3 4\nuid 0\nns x\n"));
  EXPECT_FALSE(KeeperMarker::parse("kpath-keeper v1\nkeeper 1 2\nowner 3 4\nuid 0\nsurprise 1\n"));
}

TEST(NsenterCommand, EntersTheUserNamespaceFirstAndKeepsTheCredentials) {
  EXPECT_EQ(netns::nsenter_command(77, 9),
            "nsenter --preserve-credentials --user=/proc/77/ns/user --net=/proc/77/fd/9");
}

TEST(MakePrivatePinDir, RefusesAFolderThatOthersMayWriteIn) {
  TempDir dir;
  const std::string base = dir.path + "/kpath-x";
  netns::make_private_pin_dir(base + "/pins");
  struct stat st {};
  ASSERT_EQ(::stat(base.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(fs::is_directory(base + "/pins"));
  ::chmod(base.c_str(), 0777);
  EXPECT_THROW(netns::make_private_pin_dir(base + "/pins"), kpath::Error);
}

TEST(Keeper, UncommittedItEndsWithEverythingItHeld) {
  KPATH_REQUIRE_NET_ADMIN();
  TempDir dir;
  int pid = 0;
  {
    netns::Keeper keeper = netns::Keeper::start(dir.path, ::getuid());
    pid = keeper.pid();
    keeper.hold(netns::Namespace::create(), "kpath-t-fabric", "fabric");
    EXPECT_TRUE(process_exists(pid));
  }
  EXPECT_FALSE(process_exists(pid)) << "the keeper outlived an uncommitted handover";
  EXPECT_TRUE(fs::is_empty(dir.path)) << "no marker without a commit";
}

TEST(Keeper, CommittedItHoldsEachNamespaceUnderItsMarkerUntilEnded) {
  KPATH_REQUIRE_NET_ADMIN();
  TempDir dir;
  netns::Namespace a = netns::Namespace::create(), b = netns::Namespace::create();
  netns::Keeper keeper = netns::Keeper::start(dir.path, ::getuid());
  Reaper reaper{keeper.pid()};
  keeper.hold(a, "kpath-t-a", "fabric");
  keeper.hold(b, "kpath-t-b", "pod one");
  EXPECT_THROW(keeper.enter_command("kpath-t-c"), kpath::Error);
  std::string file = keeper.commit();
  EXPECT_THAT(file, HasSubstr(dir.path + "/keeper-" + std::to_string(keeper.pid()) + "."));
  auto markers = netns::read_keeper_markers(dir.path);
  ASSERT_EQ(markers.size(), 1u);
  const KeeperMarker& m = markers[0];
  EXPECT_EQ(m.file, file);
  EXPECT_EQ(m.keeper.pid, keeper.pid());
  EXPECT_EQ(m.owner, netns::ProcessId::self());
  ASSERT_EQ(m.namespaces.size(), 2u);
  EXPECT_EQ(m.namespaces[1].label, "pod one");
  // The fds the marker and enter_command name are the namespaces handed over.
  EXPECT_EQ(inode_of(keeper.pid(), m.namespaces[0].fd), a.id());
  EXPECT_EQ(inode_of(keeper.pid(), m.namespaces[1].fd), b.id());
  EXPECT_THAT(keeper.enter_command("kpath-t-b"),
              HasSubstr("--net=/proc/" + std::to_string(keeper.pid()) + "/fd/" + std::to_string(m.namespaces[1].fd)));
  EXPECT_EQ(kpath::read_file_if_present("/proc/" + std::to_string(keeper.pid()) + "/comm"), "kpath-keeper\n");

  EXPECT_TRUE(netns::keeper_running(m, ::getuid()));
  EXPECT_FALSE(netns::keeper_running(m, ::getuid() + 1)) << "another user's keeper is not ours";
  EXPECT_FALSE(netns::end_keeper(m, ::getuid() + 1));
  EXPECT_TRUE(netns::keeper_running(m, ::getuid()));
  EXPECT_TRUE(netns::end_keeper(m, ::getuid()));
  int status = 0;
  ASSERT_EQ(::waitpid(keeper.pid(), &status, 0), keeper.pid());  // this test is its parent
  reaper.pid = 0;
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

}  // namespace
