// base/strings: the helpers that replaced each layer's own copies behave as
// those did (std::getline's lines, blanks with '\r', separators).
#include <gtest/gtest.h>

#include <sstream>

#include "base/strings.h"

namespace {

using kpath::split_lines;
using kpath::trim;
using Lines = std::vector<std::string>;

// What the replaced loops produced: std::getline over the text.
Lines getline_lines(const std::string& text) {
  Lines out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(SplitLines, ReadsAsGetlineDoes) {
  for (const char* text : {"", "\n", "a", "a\n", "a\nb", "a\n\nb\n", "\n\n", "a\r\nb\r\n", " x \n\ty"})
    EXPECT_EQ(split_lines(text), getline_lines(text)) << '"' << text << '"';
  EXPECT_EQ(split_lines("a\n\nb\n"), (Lines{"a", "", "b"}));
  EXPECT_EQ(split_lines(std::string("a\0b\nc", 5)), (Lines{std::string("a\0b", 3), "c"}));
}

TEST(StartsWithAny, TriesEachPrefix) {
  EXPECT_TRUE(kpath::starts_with_any("add rule ip t c", {"add chain", "add rule"}));
  EXPECT_FALSE(kpath::starts_with_any("add", {"add ", "table"}));
  EXPECT_FALSE(kpath::starts_with_any("anything", {}));
  EXPECT_TRUE(kpath::starts_with_any("x", {""}));
}

TEST(Trim, DropsSpacesTabsAndCarriageReturnsAtBothEnds) {
  EXPECT_EQ(trim("  -A KUBE-SVC \t\r"), "-A KUBE-SVC");
  EXPECT_EQ(trim("\r\tx"), "x");
  EXPECT_EQ(trim("a  b"), "a  b");
  EXPECT_EQ(trim(" \t\r "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("\nx\n"), "\nx\n") << "a newline is not a blank: lines are split first";
}

TEST(Trim, IsAViewIntoItsArgument) {
  std::string s = "  word  ";
  std::string_view t = trim(s);
  EXPECT_EQ(t.data(), s.data() + 2);
  EXPECT_EQ(t.size(), 4u);
}

TEST(Join, PutsTheSeparatorBetweenEachTwo) {
  EXPECT_EQ(kpath::join({}, ", "), "");
  EXPECT_EQ(kpath::join({"a"}, ", "), "a");
  EXPECT_EQ(kpath::join({"a", "b", "c"}, ","), "a,b,c");
  EXPECT_EQ(kpath::join({"", "b"}, ","), ",b") << "an empty first item keeps its separator";
}

TEST(AsciiLower, LowersAsciiLettersOnly) {
  EXPECT_EQ(kpath::ascii_lower("TCP"), "tcp");
  EXPECT_EQ(kpath::ascii_lower("True-1_Z"), "true-1_z");
  EXPECT_EQ(kpath::ascii_lower("ÜBER"), "Über") << "UTF-8 bytes are left alone";
}

}  // namespace
