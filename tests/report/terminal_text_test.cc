// Text for the terminal (progress lines, the summary) is escaped: names, file
// names and messages holding ANSI escapes or bytes that are not UTF-8 cannot
// drive the terminal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/text.h"
#include "harness/report/report.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;

const std::string kEvil = "\x1b[31mred\x1b]0;title\x07 caf\xE9 \xEF\xBF\xBE \xE2\x80\xAE";

TEST(TerminalText, SummaryAndProgressAreEscaped) {
  Report report;
  report.load_errors.push_back({kEvil, kEvil});
  CaseRun run;
  run.case_name = kEvil;
  run.generator = "g";
  run.status = Status::Skip;
  run.error = "skipped\n" + kEvil;
  report.runs.push_back(run);
  std::string text = summary(report);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_FALSE(kpath::find_unprintable(text, /*multiline=*/true)) << text;
  EXPECT_THAT(text, HasSubstr("\\u{1B}[31mred\\u{1B}]0;title\\u{7} caf\\xE9 \\u{FFFE} \\u{202E}"));
  std::string line = progress_line(report.runs[0], 1, 1);
  EXPECT_FALSE(kpath::find_unprintable(line, /*multiline=*/false)) << line;
  EXPECT_THAT(line, HasSubstr("skipped\\u{A}\\u{1B}[31mred"));
}

}  // namespace
