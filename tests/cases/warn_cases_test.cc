// Every file in tests/cases/warn loads, with exactly one warning: the one its
// header names ("# warn: SUBSTRING", "# line: N"). Under --strict
// (reject_warnings) that warning is the error, at the same place.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "harness/cases/case_loader.h"

namespace {

struct WarnCase {
  std::string file;
  std::string warn;  // a substring of the warning
  int line = 0;
};

void PrintTo(const WarnCase& w, std::ostream* os) { *os << w.file; }

WarnCase read_header(const std::string& file) {
  WarnCase w{file, "", 0};
  std::ifstream in(file);
  std::string l;
  while (std::getline(in, l) && l.starts_with("#")) {
    if (l.starts_with("# warn: ")) w.warn = l.substr(8);
    if (l.starts_with("# line: ")) w.line = std::stoi(l.substr(8));
  }
  return w;
}

std::vector<WarnCase> corpus() {
  std::vector<WarnCase> out;
  for (const auto& f : harness::find_case_files({std::string(KPATH_TESTS_DIR) + "/cases/warn"}))
    out.push_back(read_header(f));
  return out;
}

class WarnCaseTest : public testing::TestWithParam<WarnCase> {};

TEST_P(WarnCaseTest, LoadsWithItsOneWarning) {
  const WarnCase& w = GetParam();
  ASSERT_FALSE(w.warn.empty()) << w.file << " lacks '# warn: ...'";
  ASSERT_GT(w.line, 0) << w.file << " lacks '# line: N'";
  harness::Case c = harness::load_case(w.file);
  ASSERT_EQ(c.warnings.size(), 1u) << (c.warnings.empty() ? "no warning" : c.warnings[1].str());
  const harness::Warning& got = c.warnings[0];
  EXPECT_EQ(got.where.file, w.file);
  EXPECT_EQ(got.where.line, w.line) << got.str();
  EXPECT_GT(got.where.column, 0);
  EXPECT_NE(got.message.find(w.warn), std::string::npos) << "want '" << w.warn << "', got: " << got.message;
  EXPECT_NE(got.str().find(w.file + ":" + std::to_string(w.line) + ":"), std::string::npos) << got.str();
  EXPECT_NE(got.str().find(": warning: "), std::string::npos) << got.str();
}

TEST_P(WarnCaseTest, IsAnErrorUnderStrict) {
  const WarnCase& w = GetParam();
  harness::Case c = harness::load_case(w.file);
  try {
    harness::reject_warnings(c);
    FAIL() << "no error under --strict";
  } catch (const kpath::Error& e) {
    EXPECT_EQ(e.file(), w.file);
    EXPECT_EQ(e.line(), w.line);
    std::string msg = e.what();
    EXPECT_NE(msg.find(w.warn), std::string::npos) << msg;
    EXPECT_NE(msg.find("[a warning, an error under --strict]"), std::string::npos) << msg;
  }
}

std::string test_name(const testing::TestParamInfo<WarnCase>& info) {
  std::string n = std::filesystem::path(info.param.file).stem().string();
  std::replace_if(
      n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Corpus, WarnCaseTest, testing::ValuesIn(corpus()), test_name);

TEST(WarnCaseCorpus, CoversEveryWarningKind) { EXPECT_GE(corpus().size(), 11u); }

// The bundled suite is what `kpath run --strict` runs in CI: no warnings.
TEST(BundledCases, LoadWithoutWarnings) {
  auto files = harness::find_case_files({std::string(KPATH_SOURCE_DIR) + "/cases"});
  ASSERT_GT(files.size(), 20u);
  for (const auto& f : files) {
    harness::Case c = harness::load_case(f);
    for (const auto& w : c.warnings) ADD_FAILURE() << w.str();
  }
}

TEST(Strict, CaseWithoutWarningsPasses) {
  harness::Case c;
  EXPECT_NO_THROW(harness::reject_warnings(c));
}

TEST(Strict, CountsTheOtherWarnings) {
  harness::Case c;
  c.warnings.push_back({{"f.yaml", 3, 5}, "first"});
  c.warnings.push_back({{"f.yaml", 9, 1}, "second"});
  try {
    harness::reject_warnings(c);
    FAIL();
  } catch (const kpath::Error& e) {
    EXPECT_STREQ(e.what(), "f.yaml:3:5: first [a warning, an error under --strict] (and 1 more)");
  }
}

}  // namespace
