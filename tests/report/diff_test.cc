// kpath diff's comparison without a kernel: what counts as a difference,
// which ones the cases declare, and what is only chance.
#include "harness/report/diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/run/runner.h"

namespace harness {
namespace {

using ::testing::HasSubstr;

struct Pair {
  Case c;
  CaseRun a, b;

  explicit Pair(Expectation e) {
    c.name = "c";
    c.file = "cases/c.yaml";
    e.name = "e";
    e.where = {c.file, 7, 5};
    c.expect.push_back(e);
    a = new_run(c, "kube-iptables", ProxyMode::Iptables);
    b = new_run(c, "kube-nftables", ProxyMode::Nftables);
  }

  // Each side's probes: outcome counts, replies per backend, replies per source class.
  void saw(CaseRun& run, std::map<Outcome, int> outcomes, std::map<std::string, uint64_t> backends = {},
           std::map<std::string, uint64_t> sources = {}) {
    ExpectationRun er;
    er.expectation = &c.expect[0];
    er.check.outcomes = outcomes;
    er.check.backends = backends;
    er.check.sources = sources;
    run.expectations = {er};
  }

  DiffResult diff() const { return diff_runs({a, b}, "kube-iptables", "kube-nftables"); }
};

TEST(Diff, DifferentCountsOfTheSameSpreadAreNoDifference) {
  Pair p{Expectation{}};
  p.saw(p.a, {{Outcome::Reply, 2000}}, {{"pod-a", 1012}, {"pod-b", 988}}, {{"node", 2000}});
  p.saw(p.b, {{Outcome::Reply, 2000}}, {{"pod-a", 950}, {"pod-b", 1050}}, {{"node", 2000}});
  auto d = p.diff();
  EXPECT_EQ(d.compared, 1u);
  EXPECT_TRUE(d.differences.empty()) << format_diff(d);
  EXPECT_EQ(d.exit_status(), 0);
}

TEST(Diff, VerdictTheCaseDeclaresIsDeclared) {
  Expectation e;
  e.except["nftables"] = Verdict::Refused;
  Pair p{e};
  p.saw(p.a, {{Outcome::Reply, 300}}, {{"pod-a", 300}}, {{"node", 300}});
  p.saw(p.b, {{Outcome::Refused, 300}});
  auto d = p.diff();
  ASSERT_EQ(d.differences.size(), 1u) << "the backends and sources follow from the verdict";
  EXPECT_EQ(d.differences[0].aspect, "verdict");
  EXPECT_TRUE(d.differences[0].declared);
  EXPECT_EQ(d.exit_status(), 0);
  EXPECT_THAT(format_diff(d), HasSubstr("DECLARED   c [cases/c.yaml:7]\n  e\n  verdict (except: {nftables: refused})\n"
                                        "    kube-iptables: reply (300)\n    kube-nftables: refused (300)\n"));
}

TEST(Diff, VerdictNoCaseDeclaresFailsTheDiff) {
  Expectation e;
  e.except["nftables"] = Verdict::Refused;
  Pair p{e};
  p.saw(p.a, {{Outcome::Reply, 300}});
  p.saw(p.b, {{Outcome::Timeout, 300}});  // declared refused, showed dropped
  auto d = p.diff();
  ASSERT_EQ(d.differences.size(), 1u);
  EXPECT_FALSE(d.differences[0].declared);
  EXPECT_EQ(d.exit_status(), 1);
  EXPECT_THAT(format_diff(d), HasSubstr("1 undeclared"));
}

// dropped accepts a drop on the sender's own output (EPERM) as well as a
// timeout, unless droppedAt narrows it.
TEST(Diff, ADropOnTheSendersOutputShowsADeclaredDropped) {
  Expectation e;
  e.result = Verdict::Dropped;
  e.except["nftables"] = Verdict::Refused;
  Pair p{e};
  p.saw(p.a, {{Outcome::OutputDrop, 30}});
  p.saw(p.b, {{Outcome::Refused, 30}});
  auto d = p.diff();
  ASSERT_EQ(d.differences.size(), 1u);
  EXPECT_TRUE(d.differences[0].declared);
  EXPECT_THAT(format_diff(d), HasSubstr("kube-iptables: output-drop (30)"));

  p.c.expect[0].dropped_at = DroppedAt::Path;  // now only a timeout shows dropped
  EXPECT_FALSE(p.diff().differences[0].declared);
}

TEST(Diff, DeclaredButAlikeIsSaidAndDoesNotFail) {
  Expectation e;
  e.except["iptables"] = Verdict::Dropped;
  Pair p{e};
  p.saw(p.a, {{Outcome::Refused, 10}});
  p.saw(p.b, {{Outcome::Refused, 10}});
  auto d = p.diff();
  EXPECT_TRUE(d.differences.empty());
  ASSERT_EQ(d.declared_not_seen.size(), 1u);
  EXPECT_THAT(d.declared_not_seen[0], HasSubstr("except: {iptables: dropped}): both refused (10)"));
  EXPECT_EQ(d.exit_status(), 0);
}

TEST(Diff, ABackendOnlyOneSideReachesIsADifferenceUnlessChanceExplainsIt) {
  Pair many{Expectation{}};
  many.saw(many.a, {{Outcome::Reply, 1000}}, {{"pod-a", 500}, {"pod-b", 500}});
  many.saw(many.b, {{Outcome::Reply, 1000}}, {{"pod-a", 1000}});
  auto d = many.diff();
  ASSERT_EQ(d.differences.size(), 1u);
  EXPECT_EQ(d.differences[0].aspect, "backends");
  EXPECT_EQ(d.differences[0].b, "pod-a (1000)");
  EXPECT_EQ(d.exit_status(), 1);

  Pair few{Expectation{}};  // 3 probes over 4 backends: one missing is likely
  few.saw(few.a, {{Outcome::Reply, 4}}, {{"p1", 1}, {"p2", 1}, {"p3", 1}, {"p4", 1}});
  few.saw(few.b, {{Outcome::Reply, 3}}, {{"p1", 1}, {"p2", 1}, {"p3", 1}});
  EXPECT_TRUE(few.diff().differences.empty());
}

TEST(Diff, StickyComparesHowManyNotWhich) {
  Expectation e;
  e.backends.kind = BackendExpectation::Kind::Sticky;
  Pair p{e};
  p.saw(p.a, {{Outcome::Reply, 200}}, {{"pod-a", 200}});
  p.saw(p.b, {{Outcome::Reply, 200}}, {{"pod-b", 200}});
  EXPECT_TRUE(p.diff().differences.empty());
  p.saw(p.b, {{Outcome::Reply, 200}}, {{"pod-a", 100}, {"pod-b", 100}});
  EXPECT_EQ(p.diff().differences.size(), 1u);
}

// One UDP flow (sourcePort) stays with the endpoint its first datagram drew.
TEST(Diff, OneUdpFlowComparesHowManyNotWhich) {
  Expectation e;
  e.protocol = Protocol::UDP;
  e.source_port = 40053;
  Pair p{e};
  p.saw(p.a, {{Outcome::Reply, 20}}, {{"web-a1", 20}});
  p.saw(p.b, {{Outcome::Reply, 20}}, {{"web-b", 20}});
  EXPECT_TRUE(p.diff().differences.empty()) << format_diff(p.diff());
  p.saw(p.b, {{Outcome::Reply, 20}}, {{"web-a1", 10}, {"web-b", 10}});
  EXPECT_EQ(p.diff().differences.size(), 1u) << "one flow split over two endpoints";
}

TEST(Diff, SourceClassDiffers) {
  Pair p{Expectation{}};
  p.saw(p.a, {{Outcome::Reply, 200}}, {{"pod-a", 200}}, {{"node", 200}});
  p.saw(p.b, {{Outcome::Reply, 200}}, {{"pod-a", 200}}, {{"client", 200}});
  auto d = p.diff();
  ASSERT_EQ(d.differences.size(), 1u);
  EXPECT_EQ(d.differences[0].aspect, "source");
  EXPECT_EQ(d.differences[0].a, "node (200)");
  EXPECT_EQ(d.differences[0].b, "client (200)");
}

TEST(Diff, ChangesDuringTrafficCompareTheVerdictOnly) {
  Expectation e;
  e.during.push_back({"pod-c", EndpointState::Ready});
  Pair p{e};
  p.saw(p.a, {{Outcome::Reply, 1000}}, {{"pod-a", 450}, {"pod-b", 450}, {"pod-c", 100}});
  p.saw(p.b, {{Outcome::Reply, 1000}}, {{"pod-a", 500}, {"pod-b", 500}});
  EXPECT_TRUE(p.diff().differences.empty()) << "when the new rules land is timing, not behaviour";
}

TEST(Diff, UnpairedAndErroredRunsAreNotCompared) {
  Pair p{Expectation{}};
  CaseRun pinned = new_run(p.c, "ruleset:dump", ProxyMode::None);
  p.b.status = Status::Error;
  p.b.error = "nft -f failed\nline 3";
  auto d = diff_runs({pinned, p.a, p.b}, "kube-iptables", "kube-nftables");
  ASSERT_EQ(d.not_compared.size(), 2u);
  EXPECT_THAT(d.not_compared[0], HasSubstr("pins its generator"));
  EXPECT_THAT(d.not_compared[1], HasSubstr("ERROR nft -f failed"));
  EXPECT_EQ(d.exit_status(), 3);
}

}  // namespace
}  // namespace harness
