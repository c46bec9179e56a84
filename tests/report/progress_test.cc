// The live progress line: drawn only on a terminal, never mixed into the
// per-run lines a CI log keeps.
#include "harness/report/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

namespace harness {
namespace {

using ::testing::HasSubstr;

std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  return out;
}

TEST(Progress, StatusSaysRunsProbesAndRate) {
  EXPECT_EQ(progress_status(12, 48, 34567, std::chrono::duration<double>(2.0)),
            "12/48 runs done, 34,567 probes sent, 17,283/s, 2.0 s");
  EXPECT_EQ(progress_status(0, 3, 0, std::chrono::duration<double>(0)), "0/3 runs done, 0 probes sent, 0/s, 0.0 s");
}

TEST(Progress, QuietWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  std::atomic<uint64_t> probes{0};
  EXPECT_FALSE(LiveProgress::is_terminal(f));
  {
    LiveProgress p(f, 2, probes, LiveProgress::is_terminal(f));
    probes += 500;
    p.run_done("[1/2] PASS  a (kube-iptables)");
    p.run_done("[2/2] PASS  b (kube-iptables)");
  }
  EXPECT_EQ(contents(f), "[1/2] PASS  a (kube-iptables)\n[2/2] PASS  b (kube-iptables)\n");
  std::fclose(f);
}

TEST(Progress, LiveLineOnATerminalIsRedrawnUnderTheRunLines) {
  std::FILE* f = std::tmpfile();
  std::atomic<uint64_t> probes{0};
  {
    LiveProgress p(f, 2, probes, /*live=*/true);
    probes += 500;
    p.run_done("[1/2] PASS  a (kube-iptables)");
  }
  std::string out = contents(f);
  EXPECT_THAT(out, HasSubstr("\r\033[K[1/2] PASS  a (kube-iptables)\n\r\033[K1/2 runs done, 500 probes sent"));
  EXPECT_EQ(out.substr(out.size() - 4), "\r\033[K") << "the status line is cleared at the end";
  std::fclose(f);
}

}  // namespace
}  // namespace harness
