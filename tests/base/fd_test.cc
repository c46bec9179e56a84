#include "base/fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <utility>

namespace {

using kpath::Fd;

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

// Two ends of a fresh pipe, each owned.
std::pair<Fd, Fd> make_pipe() {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  return {Fd(fds[0]), Fd(fds[1])};
}

TEST(Fd, ClosesWhenDestroyed) {
  int raw = -1;
  {
    auto [r, w] = make_pipe();
    raw = r.get();
    EXPECT_TRUE(r.valid());
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(Fd, DefaultHoldsNothing) {
  Fd none;
  EXPECT_FALSE(none.valid());
  EXPECT_EQ(none.get(), -1);
}

TEST(Fd, MoveConstructionTransfersOwnership) {
  auto [r, w] = make_pipe();
  const int raw = r.get();
  Fd moved(std::move(r));
  EXPECT_EQ(moved.get(), raw);
  EXPECT_FALSE(r.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
  EXPECT_TRUE(is_open(raw));
}

// The bug a swapping or double-closing fd class has: a stale owner closes a
// number the kernel has since handed to someone else.
TEST(Fd, AMovedFromFdNeverClosesTheNumberAgain) {
  auto [r, w] = make_pipe();
  const int raw = r.get();
  int reused = -1;
  {
    Fd stale = std::move(r);
    Fd owner = std::move(stale);
    owner.reset();
    EXPECT_FALSE(is_open(raw));
    reused = ::dup3(w.get(), raw, O_CLOEXEC);  // the kernel hands the number out again
    ASSERT_EQ(reused, raw);
  }  // stale and owner go out of scope here
  EXPECT_TRUE(is_open(reused));
  ::close(reused);
}

TEST(Fd, MoveAssignmentClosesWhatTheTargetHeld) {
  auto [r1, w1] = make_pipe();
  auto [r2, w2] = make_pipe();
  const int old = r1.get(), taken = r2.get();
  r1 = std::move(r2);
  EXPECT_EQ(r1.get(), taken);
  EXPECT_FALSE(r2.valid());  // NOLINT(bugprone-use-after-move)
  EXPECT_FALSE(is_open(old));
  EXPECT_TRUE(is_open(taken));
}

TEST(Fd, SelfMoveAssignmentKeepsTheFd) {
  auto [r, w] = make_pipe();
  const int raw = r.get();
  Fd& same = r;
  r = std::move(same);
  EXPECT_EQ(r.get(), raw);
  EXPECT_TRUE(is_open(raw));
}

TEST(Fd, ReleaseGivesUpOwnershipWithoutClosing) {
  auto [r, w] = make_pipe();
  const int raw = r.release();
  EXPECT_FALSE(r.valid());
  r.reset();  // must not touch raw
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

TEST(Fd, ResetClosesTheOldFdAndHoldsTheNewOne) {
  auto [r1, w1] = make_pipe();
  auto [r2, w2] = make_pipe();
  const int old = r1.get(), next = r2.release();
  r1.reset(next);
  EXPECT_FALSE(is_open(old));
  EXPECT_EQ(r1.get(), next);
  r1.reset(next);  // the same fd again: kept, not closed
  EXPECT_TRUE(is_open(next));
}

}  // namespace
