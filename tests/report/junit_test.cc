// JUnit read back with the library that wrote it: every planned expectation is
// a testcase (the unrun ones skipped with the reason), an errored run keeps
// its expectations, properties and timestamps are set, and hostile names give
// valid XML.
#include "harness/report/junit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <pugixml.hpp>

#include "harness/report/safe_text.h"
#include "report/sample_report.h"

namespace harness {
namespace {

using ::testing::HasSubstr;

using testing_support::kHostile;
using Fixture = testing_support::SampleReport;

// Valid UTF-8 holding only characters XML 1.0 allows (pugixml itself does not
// check this when it parses).
bool only_xml_chars(const std::string& s) { return xml_safe(s) == s && s.find('\r') == std::string::npos; }

pugi::xml_document parse(const std::string& xml) {
  pugi::xml_document doc;
  auto result = doc.load_string(xml.c_str());
  EXPECT_TRUE(result) << result.description() << " at offset " << result.offset << " of\n" << xml;
  return doc;
}

pugi::xml_node suite_named(const pugi::xml_document& doc, const std::string& name) {
  return doc.child("testsuites").find_child_by_attribute("testsuite", "name", name.c_str());
}

int count(pugi::xml_node suite, const char* outcome) {
  int n = 0;
  for (auto tc : suite.children("testcase")) n += !tc.child(outcome).empty();
  return n;
}

TEST(Junit, HostileNamesGiveValidXml) {
  Fixture f;
  std::string xml = junit_xml(f.report);
  EXPECT_TRUE(only_xml_chars(xml)) << xml;
  EXPECT_EQ(xml.find('\x1b'), std::string::npos);
  auto doc = parse(xml);
  auto suite = suite_named(doc, xml_safe(kHostile + "." + kHostile));
  ASSERT_FALSE(suite.empty()) << xml;
  EXPECT_EQ(std::string(suite.first_child().next_sibling().attribute("name").value()),
            xml_safe(kHostile) + " expectation 1");
  EXPECT_THAT(std::string(suite.attribute("name").value()), HasSubstr("\\xFF\\xFE-\\u{FFFE}-\\u{1B}[31mred"));
  EXPECT_THAT(std::string(suite.attribute("name").value()), HasSubstr("<&\"'></svg><script>")) << "markup kept as text";
  EXPECT_EQ(suite.attribute("tests").as_int(), 2);
  EXPECT_EQ(suite.attribute("failures").as_int(), 1);
  EXPECT_EQ(count(suite, "failure"), 1);
}

TEST(Junit, InterruptedRunListsEveryExpectationTheUnrunSkipped) {
  Fixture f;
  auto doc = parse(junit_xml(f.report));
  auto suite = suite_named(doc, "interrupted.kube-iptables");
  ASSERT_FALSE(suite.empty());
  EXPECT_EQ(suite.attribute("tests").as_int(), 5);
  EXPECT_EQ(suite.attribute("skipped").as_int(), 3);
  EXPECT_EQ(count(suite, "skipped"), 3);
  int i = 0;
  for (auto tc : suite.children("testcase")) {
    EXPECT_EQ(std::string(tc.attribute("name").value()), fmt::format("interrupted expectation {}", ++i));
    if (i > 2) {
      EXPECT_EQ(std::string(tc.child("skipped").attribute("message").value()), "interrupted");
    }
  }
  EXPECT_EQ(i, 5);
  auto never = suite_named(doc, "interrupted.kube-nftables");
  EXPECT_EQ(never.attribute("tests").as_int(), 5) << "a run that never started still lists its expectations";
  EXPECT_EQ(count(never, "skipped"), 5);
}

TEST(Junit, ErroredRunKeepsItsExpectations) {
  Fixture f;
  auto doc = parse(junit_xml(f.report));
  auto suite = suite_named(doc, "errored.exec:false");
  ASSERT_FALSE(suite.empty());
  EXPECT_EQ(suite.attribute("tests").as_int(), 6) << "the error, then the 5 expectations";
  EXPECT_EQ(suite.attribute("errors").as_int(), 1);
  EXPECT_EQ(suite.attribute("skipped").as_int(), 5);
  auto setup = suite.find_child_by_attribute("testcase", "name", "setup");
  EXPECT_EQ(std::string(setup.child("error").attribute("message").value()), "exec:false exited 1");
  EXPECT_EQ(std::string(setup.child("error").text().get()), "exec:false exited 1\nits stderr");
  auto first = suite.find_child_by_attribute("testcase", "name", "errored expectation 1");
  EXPECT_EQ(std::string(first.child("skipped").attribute("message").value()), "not run: exec:false exited 1");
}

TEST(Junit, TotalsPropertiesTimestampHostname) {
  Fixture f;
  auto doc = parse(junit_xml(f.report));
  auto root = doc.child("testsuites");
  // 2 + 5 + 6 + 5 testcases in the runs, 1 for the rejected file.
  EXPECT_EQ(root.attribute("tests").as_int(), 19);
  EXPECT_EQ(root.attribute("failures").as_int(), 1);
  EXPECT_EQ(root.attribute("errors").as_int(), 2);
  EXPECT_EQ(root.attribute("skipped").as_int(), 13);
  EXPECT_EQ(std::string(root.attribute("timestamp").value()), "2026-01-01T00:00:00");
  int suites = 0;
  for (auto suite : root.children("testsuite")) {
    ++suites;
    EXPECT_EQ(std::string(suite.attribute("hostname").value()), "ci-runner-7");
    EXPECT_EQ(std::string(suite.attribute("timestamp").value()), "2026-01-01T00:00:00");
    auto props = suite.child("properties");
    auto prop = [&](const char* name) {
      return std::string(props.find_child_by_attribute("property", "name", name).attribute("value").value());
    };
    EXPECT_EQ(prop("kpath.version"), "kpath 0.1.0 (commit 0123456789ab)");
    EXPECT_EQ(prop("kernel"), "6.1.0-test");
    EXPECT_EQ(prop("iptables-nft"), "iptables v1.8.9 (nf_tables)");
    EXPECT_EQ(prop("iptables-legacy"), "iptables v1.8.9 (legacy)");
    EXPECT_EQ(prop("nft"), "nftables v1.0.6");
    EXPECT_EQ(prop("interrupted"), "true");
  }
  EXPECT_EQ(suites, 5);
}

TEST(SafeText, InvalidUtf8AndForbiddenCharactersBecomeVisibleEscapes) {
  EXPECT_EQ(xml_safe("plain \xc3\xa9 \xf0\x9f\x98\x80\ttab\nline"), "plain \xc3\xa9 \xf0\x9f\x98\x80\ttab\nline");
  EXPECT_EQ(xml_safe("\xc0\xaf"), "\\xC0\\xAF") << "overlong";
  EXPECT_EQ(xml_safe("\xed\xa0\x80"), "\\xED\\xA0\\x80") << "a surrogate";
  EXPECT_EQ(xml_safe("\xf4\x90\x80\x80"), "\\xF4\\x90\\x80\\x80") << "beyond U+10FFFF";
  EXPECT_EQ(xml_safe("\xe2\x82"), "\\xE2\\x82") << "cut short";
  EXPECT_EQ(xml_safe("\xef\xbf\xbf\xef\xb7\x90\r\x7f\xc2\x85"), "\\u{FFFF}\\u{FDD0}\\u{D}\\u{7F}\\u{85}");
  EXPECT_EQ(html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
}

}  // namespace
}  // namespace harness
