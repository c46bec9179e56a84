// The behaviour catalogue is one list (harness/report/catalogue.cc): the doc's
// table must be that list, and every bundled behaviour case must name an entry.
#include "harness/report/catalogue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <set>

#include "harness/cases/case_loader.h"
#include "harness/report/behaviour_table.h"
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

// A column per generator and family: an expectation counts for its target's
// family, a run that errored for every family of its cluster.
TEST(BehaviourTable, AColumnPerGeneratorAndFamily) {
  Expectation v4, v6;
  v4.name = "IPv4 NodePort";
  v6.name = "IPv6 NodePort";
  auto ran = [](const Expectation& e, const char* target, Status status) {
    ExpectationRun er;
    er.expectation = &e;
    er.flow.target = kpath::Ip::from(target);
    er.check.status = status;
    return er;
  };
  Report report;
  CaseRun dual;
  dual.case_name = "b01-dual";
  dual.behaviour = "B1";
  dual.generator = "kube-iptables";
  dual.families = {AF_INET, AF_INET6};
  dual.status = Status::Fail;
  dual.expectations = {ran(v4, "192.168.10.1", Status::Pass), ran(v6, "2001:db8::1", Status::Fail)};
  report.runs.push_back(dual);
  CaseRun errored = dual;
  errored.generator = "kube-nftables";
  errored.status = Status::Error;
  errored.expectations.clear();
  report.runs.push_back(errored);
  std::string table = behaviour_table(report);
  EXPECT_THAT(table,
              ::testing::HasSubstr("| # | behaviour | cases | kube-iptables IPv4 | kube-iptables IPv6 | "
                                   "kube-nftables IPv4 | kube-nftables IPv6 |\n|---|---|---|---|---|---|---|\n"));
  EXPECT_THAT(table, ::testing::HasSubstr("| b01-dual | PASS | FAIL | ERROR | ERROR |\n"));
  EXPECT_THAT(table,
              ::testing::HasSubstr("| B2 | pod or node to ClusterIP | — | not covered | not covered | not covered | "
                                   "not covered |\n"));
}

}  // namespace
}  // namespace harness
