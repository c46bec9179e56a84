#include "base/errno.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"

namespace {

using testing::HasSubstr;

TEST(ErrorText, NamesTheErrno) {
  EXPECT_EQ(kpath::error_text(ENOENT), "No such file or directory");
  EXPECT_EQ(kpath::error_text(EEXIST), "File exists");
}

TEST(ErrorText, UnknownNumbersStillSaySomething) { EXPECT_THAT(kpath::error_text(99999), HasSubstr("99999")); }

TEST(ThrowErrno, IsAKpathErrorNamingTheOperation) {
  try {
    kpath::throw_errno("open /nowhere", ENOENT);
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_STREQ(e.what(), "open /nowhere: No such file or directory");
  }
}

TEST(ThrowErrno, DefaultsToTheCurrentErrno) {
  errno = EACCES;
  try {
    kpath::throw_errno("bind");
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_STREQ(e.what(), "bind: Permission denied");
  }
}

// Worker threads (probers, echo servers) format errors at once; each must get
// the text of its own errno.
TEST(ErrorText, GivesEachThreadItsOwnText) {
  const std::vector<std::pair<int, std::string>> cases{{ENOENT, "No such file or directory"},
                                                       {EPERM, "Operation not permitted"},
                                                       {ECONNREFUSED, "Connection refused"},
                                                       {99998, "Unknown error 99998"}};
  std::vector<std::thread> threads;
  std::vector<int> wrong(cases.size(), 0);
  for (size_t i = 0; i < cases.size(); ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < 2000; ++k)
        if (kpath::error_text(cases[i].first) != cases[i].second) ++wrong[i];
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(wrong[i], 0) << cases[i].second;
}

}  // namespace
