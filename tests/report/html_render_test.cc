// The HTML report as a browser sees it: headless Chromium renders the page and
// dumps its DOM; each expectation must show one bar per backend with the
// right count, its verdict and p-value, and no name may turn into markup.
#include "harness/report/html_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include <stdlib.h>

#include "netns/namespace.h"
#include "netns/process.h"
#include "support/host_process.h"
#include "report/sample_report.h"
#include "support/privileges.h"

namespace harness {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::optional<std::string> find_chromium() {
  for (const char* name : {"chromium", "chromium-browser"})
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/snap/bin"})
      if (std::filesystem::exists(std::filesystem::path(dir) / name)) return std::string(dir) + "/" + name;
  return std::nullopt;
}

// A fresh folder: concurrent test runs (other worktrees, ctest -j) must not
// share Chromium's profile, which it locks.
std::string scratch_dir() {
  std::string path = ::testing::TempDir() + "kpath-html-XXXXXX";
  if (!mkdtemp(path.data())) ADD_FAILURE() << "mkdtemp " << path;
  return path;
}

// The page as Chromium rendered it (the DOM after parsing), or the failure.
std::string rendered_dom(const std::string& chromium, const std::string& page, const std::string& profile) {
  auto r = kpath_test::run_on_host(netns::Namespace::current(),
                                   {chromium, "--headless", "--no-sandbox", "--disable-gpu",
                                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                    "--no-first-run", "--user-data-dir=" + profile, "--dump-dom", "file://" + page},
                                   {}, std::chrono::seconds(120));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

struct Bar {
  std::string backend;
  int count;
  bool operator==(const Bar&) const = default;
};

// The expectations in DOM order: data-status and the bars inside each.
std::vector<std::pair<std::string, std::vector<Bar>>> expectations(const std::string& dom) {
  std::vector<std::pair<std::string, std::vector<Bar>>> out;
  std::regex div(R"re(<div class="expectation" data-name="[^"]*" data-status="(\w+)">)re");
  std::regex bar(R"re(<g class="backend" data-backend="([^"]*)" data-count="(\d+)")re");
  auto begin = std::sregex_iterator(dom.begin(), dom.end(), div);
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    size_t from = it->position() + it->length();
    size_t to = dom.find("</div>", from);
    std::string body = dom.substr(from, to - from);
    std::vector<Bar> bars;
    for (auto b = std::sregex_iterator(body.begin(), body.end(), bar); b != std::sregex_iterator(); ++b)
      bars.push_back({(*b)[1], std::stoi((*b)[2])});
    out.emplace_back((*it)[1], bars);
  }
  return out;
}

TEST(HtmlReport, ChromiumShowsABarPerBackendAndTheVerdicts) {
  auto chromium = find_chromium();
  if (!chromium) {
    if (kpath_test::in_ci()) FAIL() << "CI=true but chromium is missing (ci/install-deps.sh installs it)";
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium, or ci/install-deps.sh)";
  }
  testing_support::SampleReport sample;
  std::string dir = scratch_dir();
  std::string page = dir + "/report.html";
  std::ofstream(page) << html_report(sample.report);
  std::string dom = rendered_dom(*chromium, page, dir + "/profile");
  std::filesystem::remove_all(dir);
  ASSERT_THAT(dom, HasSubstr("kpath report"));

  auto found = expectations(dom);
  ASSERT_EQ(found.size(), 2u + 5 + 5 + 5) << "every planned expectation is on the page";
  EXPECT_EQ(found[0].first, "PASS");
  EXPECT_EQ(found[0].second, (std::vector<Bar>{{"pod-a", 1012}, {"pod-b", 988}}));
  EXPECT_EQ(found[1].first, "FAIL");
  // Three bars: two expected backends (one got nothing) and the hostile one
  // that should have got nothing; the browser shows the escaped name.
  ASSERT_EQ(found[1].second.size(), 3u);
  EXPECT_EQ(found[1].second[2], (Bar{"pod-b", 0}));
  EXPECT_EQ(found[1].second[1], (Bar{"pod-a", 2000}));
  EXPECT_EQ(found[2].second, (std::vector<Bar>{{"web-1", 150}, {"web-2", 150}}));
  for (size_t i = 4; i < 7; ++i) EXPECT_EQ(found[i].first, "SKIP") << "interrupted expectation " << i - 1;
  EXPECT_THAT(dom, HasSubstr("not run: interrupted"));
  EXPECT_THAT(dom, HasSubstr("p-value 0.59"));
  EXPECT_THAT(dom, HasSubstr("distribution does not fit"));
  EXPECT_THAT(dom, HasSubstr("<pre class=\"diagnosis\">"));
  // No name became markup: the only script and SVG are none and the charts.
  EXPECT_THAT(dom, Not(HasSubstr("<script")));
  EXPECT_THAT(dom, HasSubstr("&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(dom, Not(HasSubstr("\x1b")));
}

TEST(HtmlReport, SelfContained) {
  std::string html = html_report(testing_support::SampleReport().report);
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, HasSubstr("<style>"));
}

}  // namespace
}  // namespace harness
