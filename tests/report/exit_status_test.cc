// kpath run's exit status from what the runs did (README lists the same).
#include <gtest/gtest.h>

#include "harness/report/report.h"

namespace harness {
namespace {

Report with(std::vector<Status> statuses) {
  Report r;
  for (Status s : statuses) {
    CaseRun run;
    run.status = s;
    r.runs.push_back(run);
  }
  return r;
}

TEST(ExitStatus, WorstOutcomeDecides) {
  EXPECT_EQ(with({Status::Pass}).exit_status(), kExitPassed);
  EXPECT_EQ(with({Status::Pass, Status::Fail}).exit_status(), kExitFailed);
  EXPECT_EQ(with({Status::Fail, Status::Error}).exit_status(), kExitEnvironment);
  Report bad = with({Status::Pass, Status::Error});
  bad.load_errors.push_back({"x.yaml", "x.yaml:3:1: bad"});
  EXPECT_EQ(bad.exit_status(), kExitBadInput);
}

TEST(ExitStatus, NothingPassedIsNoSuccess) {
  EXPECT_EQ(with({}).exit_status(), kExitNothingRan);
  EXPECT_EQ(with({Status::Skip, Status::Skip}).exit_status(), kExitNothingRan);
  EXPECT_EQ(with({Status::Skip, Status::Pass}).exit_status(), kExitPassed) << "a skip is no failure";
}

TEST(ExitStatus, UnderCiASkipFailsTheRun) {
  EXPECT_EQ(with({Status::Skip, Status::Pass}).exit_status(/*skips_fail=*/true), kExitNothingRan);
  EXPECT_EQ(with({Status::Pass}).exit_status(/*skips_fail=*/true), kExitPassed);
}

}  // namespace
}  // namespace harness
