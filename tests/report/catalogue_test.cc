// The behaviour catalogue is one list (harness/report/catalogue.cc): the doc's
// table must be that list, and every bundled behaviour case must name an entry.
#include "harness/report/catalogue.h"

#include <gtest/gtest.h>

#include <set>

#include "harness/cases/case_loader.h"
#include "support/files.h"

namespace harness {
namespace {

TEST(Catalogue, DocTableIsTheCatalogue) {
  std::string doc = kpath_test::read_file(KPATH_SOURCE_DIR "/docs/behaviours-catalogue.md");
  std::string table = catalogue_markdown();
  EXPECT_NE(doc.find(table), std::string::npos)
      << "docs/behaviours-catalogue.md's table differs from harness/report/catalogue.cc; the table is:\n"
      << table;
}

TEST(Catalogue, EveryEntryHasABundledCaseAndEveryCaseAnEntry) {
  std::set<std::string> ids, covered;
  for (const auto& b : catalogue()) ids.insert(b.id);
  for (const auto& file : find_case_files({KPATH_SOURCE_DIR "/cases/behaviours"})) {
    Case c = load_case(file);
    EXPECT_TRUE(ids.count(c.behaviour)) << file << " names '" << c.behaviour << "', not in the catalogue";
    covered.insert(c.behaviour);
  }
  EXPECT_EQ(covered, ids);
}

}  // namespace
}  // namespace harness
