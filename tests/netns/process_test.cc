#include "netns/process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>

#include "base/error.h"
#include "netns/link.h"
#include "support/privileges.h"

namespace {

using namespace std::chrono_literals;
using netns::Namespace;
using testing::HasSubstr;
using testing::Not;

TEST(Process, CatEchoesStdin) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  auto r = netns::run_process(ns, {"cat"}, "hello\nworld\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out, "hello\nworld\n");
  EXPECT_EQ(r.err, "");
}

TEST(Process, LargeInputAndOutputDoNotDeadlock) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  std::string big(4 << 20, 'x');  // far beyond a pipe's 64 KiB
  for (size_t i = 0; i < big.size(); i += 1000) big[i] = '\n';
  auto r = netns::run_process(ns, {"sh", "-c", "cat; cat /proc/self/status >&2"}, big, 20s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), big.size());
  EXPECT_TRUE(r.out == big);
  EXPECT_THAT(r.err, HasSubstr("Name:"));
}

TEST(Process, FailingCommandReportsExitCodeAndStderr) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  auto r = netns::run_process(ns, {"sh", "-c", "echo partial; echo oops >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out, "partial\n");
  EXPECT_EQ(r.err, "oops\n");
  auto missing = netns::run_process(ns, {"cat", "/nonexistent-kpath-file"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("No such file or directory"));
}

TEST(Process, TimeoutKillsTheChild) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  const auto start = std::chrono::steady_clock::now();
  auto r = netns::run_process(ns, {"sleep", "10"}, {}, 200ms);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 5s);  // not the 10 s sleep: room for a loaded host
}

TEST(Process, OutputBeforeTheTimeoutIsKept) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  auto r = netns::run_process(ns, {"sh", "-c", "echo started; exec sleep 10"}, {}, 300ms);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.out, "started\n");
}

TEST(Process, KilledBySignalIsMinusOneWithoutTimeout) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  auto r = netns::run_process(ns, {"sh", "-c", "kill -9 $$"});
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_FALSE(r.timed_out);
}

TEST(Process, ChildSeesTheNamespace) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  Namespace peer = Namespace::create();
  netns::create_veth(ns, "probe0", peer, "probe1");
  auto r = netns::run_process(ns, {"readlink", "/proc/self/ns/net"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "net:[" + std::to_string(ns.id()) + "]\n");
  auto dev = netns::run_process(ns, {"cat", "/proc/net/dev"});
  EXPECT_THAT(dev.out, HasSubstr("probe0:"));
  EXPECT_THAT(dev.out, HasSubstr("lo:"));
  EXPECT_THAT(dev.out, Not(HasSubstr("probe1:")));
  // The parent stayed where it was.
  EXPECT_NE(Namespace::current().id(), ns.id());
}

// The fds of this test process that a child may rightly inherit: those
// without FD_CLOEXEC that kpath did not open (e.g. left open by the harness).
TEST(Process, NoDescriptorsBeyondStdioLeakIntoTheChild) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  Namespace other = Namespace::create();  // more kpath fds open in the parent
  // The child checks for kpath's own descriptors by number; it opens nothing
  // itself (test is a shell builtin), so what it sees was inherited.
  std::string script;
  for (int fd : {ns.fd(), other.fd()})
    script += "if test -e /proc/self/fd/" + std::to_string(fd) + "; then echo leaked " + std::to_string(fd) + "; fi; ";
  auto r = netns::run_process(ns, {"sh", "-c", script + "echo checked"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "checked\n");
}

TEST(Process, MissingProgramIsAnError) {
  KPATH_REQUIRE_NET_ADMIN();
  Namespace ns = Namespace::create();
  try {
    netns::run_process(ns, {"kpath-no-such-program"});
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("run 'kpath-no-such-program' in namespace net:["));
  }
  EXPECT_THROW(netns::run_process(ns, {}), kpath::Error);
}

}  // namespace
