// Every file in tests/cases/bad is an invalid case whose first lines say which
// error it must produce ("# expect: SUBSTRING") and on which line ("# line: N").
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "harness/cases/case_loader.h"
#include "base/error.h"

namespace {

struct BadCase {
  std::string file;
  std::string expect;  // a substring of the message
  int line = 0;
};

void PrintTo(const BadCase& b, std::ostream* os) { *os << b.file; }

// Reads the "# expect:" and "# line:" header of one corpus file.
BadCase read_header(const std::string& file) {
  BadCase b{file, "", 0};
  std::ifstream in(file);
  std::string l;
  while (std::getline(in, l) && l.starts_with("#")) {
    if (l.starts_with("# expect: ")) b.expect = l.substr(10);
    if (l.starts_with("# line: ")) b.line = std::stoi(l.substr(8));
  }
  return b;
}

std::vector<BadCase> corpus() {
  std::vector<BadCase> out;
  for (const auto& f : harness::find_case_files({std::string(KPATH_TESTS_DIR) + "/cases/bad"}))
    out.push_back(read_header(f));
  return out;
}

class BadCaseTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadCaseTest, FailsWithPositionedMessage) {
  const BadCase& b = GetParam();
  ASSERT_FALSE(b.expect.empty()) << b.file << " lacks '# expect: ...'";
  ASSERT_GT(b.line, 0) << b.file << " lacks '# line: N'";
  try {
    harness::load_case(b.file);
    FAIL() << b.file << " loaded without error";
  } catch (const kpath::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(b.file + ":" + std::to_string(b.line) + ":"), std::string::npos)
        << "want " << b.file << ":" << b.line << ":, got: " << msg;
    EXPECT_NE(msg.find(b.expect), std::string::npos) << "want '" << b.expect << "', got: " << msg;
    EXPECT_EQ(e.file(), b.file);
    EXPECT_EQ(e.line(), b.line);
    EXPECT_GT(e.column(), 0);
  }
}

std::string test_name(const testing::TestParamInfo<BadCase>& info) {
  std::string n = std::filesystem::path(info.param.file).stem().string();
  std::replace_if(
      n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadCaseTest, testing::ValuesIn(corpus()), test_name);

TEST(BadCaseCorpus, IsLargeEnough) { EXPECT_GE(corpus().size(), 150u); }

}  // namespace
