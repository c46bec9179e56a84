// base/file's readers for files kpath knows the kind of: to the end, through
// EINTR-free pipes and /proc alike; absent files are nullopt, not errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "base/fd.h"
#include "base/file.h"

namespace {

TEST(ReadToEnd, ReadsAPipeUntilItsWriterCloses) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  kpath::Fd in(p[0]), out(p[1]);
  const std::string text(30000, 'x');  // within the pipe's 64 KiB, so the writes never wait for the reader
  ASSERT_EQ(::write(out.get(), text.data(), 20000), 20000);
  ASSERT_EQ(::write(out.get(), text.data() + 20000, 10000), 10000);
  out.reset();
  kpath::FdText r = kpath::read_to_end(in.get());
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.text, text);
}

TEST(ReadToEnd, StopsOnceAboveTheLimitAndReportsAFailedRead) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  kpath::Fd in(p[0]), out(p[1]);
  ASSERT_EQ(::write(out.get(), "0123456789", 10), 10);
  kpath::FdText r = kpath::read_to_end(in.get(), 4);  // the writer stays open: a read past the limit would block
  EXPECT_GT(r.text.size(), 4u);
  EXPECT_EQ(kpath::read_to_end(-1).error, EBADF);
}

TEST(ReadFileIfPresent, ReadsProcAndSaysNothingOfAbsentFiles) {
  auto status = kpath::read_file_if_present("/proc/self/status");
  ASSERT_TRUE(status);
  EXPECT_NE(status->find("Threads:"), std::string::npos) << "a /proc file (size 0 to stat) is read to its end";
  EXPECT_FALSE(kpath::read_file_if_present("/nonexistent/kpath-file"));
  EXPECT_FALSE(kpath::read_file_if_present("/proc")) << "a directory cannot be read";
  std::string path = ::testing::TempDir() + "kpath-file-test-" + std::to_string(::getpid());
  std::ofstream(path) << "a\nb";
  EXPECT_EQ(kpath::read_file_if_present(path), "a\nb");
  ::unlink(path.c_str());
}

}  // namespace
