// base/text: what counts as printable, and how the rest is shown.
#include <gtest/gtest.h>

#include "base/ip.h"
#include "base/text.h"

namespace {

using kpath::escape_unprintable;
using kpath::escaped_prefix;
using kpath::find_unprintable;

TEST(Utf8, DecodesAndRejects) {
  EXPECT_EQ(kpath::decode_utf8("é", 0).code_point, U'é');
  EXPECT_EQ(kpath::decode_utf8("é", 0).length, 2u);
  EXPECT_EQ(kpath::decode_utf8("\xF0\x9F\x98\x80", 0).code_point, U'\U0001F600');
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80", "\xE2\x82", "\xFF"}) {
    kpath::Utf8Char c = kpath::decode_utf8(bad, 0);
    EXPECT_FALSE(c.code_point) << bad;
    EXPECT_EQ(c.length, 1u);
  }
}

TEST(Printable, NamesTheFirstBadCharacter) {
  EXPECT_FALSE(find_unprintable("web-1 über 😀", false));
  auto esc = find_unprintable("ab\x1b[31m", false);
  ASSERT_TRUE(esc);
  EXPECT_EQ(esc->offset, 2u);
  EXPECT_EQ(esc->shown, "\\u{1B}");
  EXPECT_EQ(esc->reason, "a control character");
  EXPECT_EQ(find_unprintable("a\xEF\xBF\xBE", false)->reason, "a noncharacter");
  EXPECT_EQ(find_unprintable("a\xE2\x80\xAE", false)->reason, "a bidirectional control");
  EXPECT_EQ(find_unprintable("a\xC2\x9B", false)->reason, "a control character");
  EXPECT_EQ(find_unprintable("a\xE9", false)->shown, "\\xE9");
  EXPECT_EQ(find_unprintable(std::string("a\0b", 3), false)->shown, "\\u{0}");
  EXPECT_TRUE(find_unprintable("a\nb", false));
  EXPECT_FALSE(find_unprintable("a\n\tb", true));
}

TEST(Printable, EscapedTextCannotDriveATerminal) {
  EXPECT_EQ(escape_unprintable("\x1b[2J\x1b]0;pwned\x07ok"), "\\u{1B}[2J\\u{1B}]0;pwned\\u{7}ok");
  EXPECT_EQ(escape_unprintable("line\nnext", true), "line\nnext");
  EXPECT_EQ(escape_unprintable("line\nnext", false), "line\\u{A}next");
  EXPECT_EQ(escape_unprintable("caf\xE9 \xEF\xBF\xBF"), "caf\\xE9 \\u{FFFF}");
  EXPECT_EQ(escape_unprintable("\xE2\x80\xAE"
                               "evil"),
            "\\u{202E}evil");
  // The result is itself printable: escaping twice changes nothing more.
  std::string once = escape_unprintable("\x1b\xff\xc2\x85");
  EXPECT_FALSE(find_unprintable(once, true));
}

TEST(Printable, PrefixCutsAtACharacter) {
  EXPECT_EQ(escaped_prefix("password=hunter2", 8), "password...");
  EXPECT_EQ(escaped_prefix("ééééé", 2), "éé...");
  EXPECT_EQ(escaped_prefix("short", 8), "short");
  EXPECT_EQ(escaped_prefix("\x1b[0m", 2), "\\u{1B}[...");
}

TEST(Ip, EmbeddedNulIsNoAddress) {
  EXPECT_FALSE(kpath::Ip::parse(std::string("10.0.0.1\0junk", 13)));
  EXPECT_TRUE(kpath::Ip::parse("10.0.0.1"));
}

}  // namespace
