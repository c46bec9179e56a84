// A sweep on the kernel: every front door of every Service probed in one
// expectation, the doors that fail named and counted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "harness/cases/case_loader.h"
#include "harness/generators/registry.h"
#include "harness/run/mutate.h"
#include "harness/run/runner.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;
using ::testing::Not;

// Two nodes, three pods shared by every Service; `deaf` Services send to a
// port no pod listens on.
std::string case_text(int services, int deaf, const std::string& expect = "") {
  std::string text = R"(apiVersion: kpath/v1
kind: Case
name: sweep
cluster:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  nodePortRange: 20000-20999
  nodes:
    - name: n1
      ip: 192.168.10.1
      pods:
        - {name: web-a, ip: 10.244.0.10, labels: {app: web}, listen: [{port: 8080}, {port: 8080, protocol: UDP}]}
        - {name: web-b, ip: 10.244.0.11, labels: {app: web}, listen: [{port: 8080}, {port: 8080, protocol: UDP}]}
    - name: n2
      ip: 192.168.10.2
      pods:
        - {name: web-c, ip: 10.244.0.12, labels: {app: web}, listen: [{port: 8080}, {port: 8080, protocol: UDP}]}
  externals:
    - {name: client, ip: 192.168.10.100}
objects:
)";
  for (int i = 0; i < services; ++i) {
    bool udp = i % 5 == 4;
    int target = i < deaf ? 9999 : 8080;
    text += "  - {apiVersion: v1, kind: Service, metadata: {name: s" + std::to_string(i) +
            "}, spec: {type: NodePort, clusterIP: 10.96.0." + std::to_string(i + 10) +
            ", selector: {app: web}, ports: [{port: 80, targetPort: " + std::to_string(target) +
            (udp ? ", protocol: UDP" : "") + ", nodePort: " + std::to_string(20000 + i) + "}]}}\n";
  }
  text += "expect:\n";
  text += expect.empty() ? "  - {name: every door, from: client, sweep: {services: all, show: 3}, probes: 2}\n"
                         : expect;
  return text;
}

TEST(Sweep, EveryFrontDoorOfFiftyServicesAnswers) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = parse_case(case_text(50, 0), "sweep.yaml");
  for (const auto& g : builtin_generators()) {
    CaseRun run = run_case(c, g, RunOptions{});
    ASSERT_EQ(run.expectations.size(), 1u) << g.name() << ": " << run.error;
    const ExpectationRun& er = run.expectations[0];
    EXPECT_EQ(er.check.status, Status::Pass) << g.name() << ": " << er.check.summary << "\n" << er.check.detail;
    // 50 ClusterIPs and 50 nodePorts on each of two nodes, twice each.
    EXPECT_EQ(er.probes, 300) << g.name();
    EXPECT_THAT(er.check.summary, HasSubstr("150/150 front doors answered (clusterIP 50/50, nodePort 100/100"));
    EXPECT_EQ(er.check.backends.size(), 3u) << "every shared pod answered some door";
  }
}

TEST(Sweep, FailingDoorsAreNamedAndCounted) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = parse_case(case_text(12, 4), "sweep.yaml");
  CaseRun run = run_case(c, builtin_generators().front(), RunOptions{});
  ASSERT_EQ(run.expectations.size(), 1u) << run.error;
  const CheckResult& check = run.expectations[0].check;
  EXPECT_EQ(check.status, Status::Fail);
  // Services s0..s3 (s4 is UDP but answers) send to a port nobody listens on: their 4 ClusterIPs and 8 nodePorts.
  EXPECT_THAT(check.summary,
              HasSubstr("12 of 36 front doors not answered (failed per door: clusterIP 4/12, nodePort 8/24)"));
  EXPECT_THAT(check.detail, HasSubstr("clusterIP 10.96.0.10:80/TCP of default/s0: expected reachable, observed 2 "));
  EXPECT_THAT(check.detail, HasSubstr("... and 9 more failing doors"));
  EXPECT_THAT(check.detail, Not(HasSubstr("s5")));
  EXPECT_EQ(run.expectations[0].flow.service, "default/s0") << "the first failing door is the one diagnosed";
}

// A judged sweep: every ClusterIP at its even spread and masqueraded, and
// every ClusterIP refusing a port its Service does not define.
const std::string kJudged =
    "  - {name: spread, from: client, sweep: {services: all, doors: [clusterIP]}, probes: 600, backends: uniform, "
    "source: node}\n"
    "  - {name: undefined ports, from: client, sweep: {services: all, doors: [clusterIPUndefinedPort]}, probes: 2, "
    "result: refused, except: {iptables: leaked}}\n";

TEST(Sweep, JudgedDoorsPassOnTheBuiltins) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = parse_case(case_text(10, 0, kJudged), "sweep.yaml");
  for (const auto& g : builtin_generators()) {
    CaseRun run = run_case(c, g, RunOptions{});
    ASSERT_EQ(run.expectations.size(), 2u) << g.name() << ": " << run.error;
    for (const auto& er : run.expectations)
      EXPECT_EQ(er.check.status, Status::Pass) << g.name() << ": " << er.check.summary << "\n" << er.check.detail;
    EXPECT_THAT(run.expectations[0].check.summary, HasSubstr("10/10 front doors answered"));
    EXPECT_THAT(run.expectations[0].check.summary, HasSubstr("backends uniform, source node"));
    EXPECT_THAT(run.expectations[1].check.summary,
                HasSubstr(g.name() == "kube-iptables" ? "10/10 front doors leaked" : "10/10 front doors refused"));
  }
}

// One Service's endpoint pick perturbed (the last endpoint gets twice its
// share): every probe is answered, and only the spread tells.
TEST(Sweep, AWrongSpreadInOneServiceFailsItsDoor) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = parse_case(case_text(10, 0, kJudged), "sweep.yaml");
  for (const auto& g : builtin_generators()) {
    SCOPED_TRACE(g.name());
    auto base = make_generator(GeneratorSpec::parse(g.name(), ""));
    auto all = mutants_of(base->generate(c.cluster, "n1"), "n1");
    auto spread = std::find_if(all.begin(), all.end(), [](const Mutant& m) {
      return m.change == Mutant::Change::Perturbed && m.rule.find("default/s3") != std::string::npos;
    });
    ASSERT_NE(spread, all.end());
    MutatedGenerator mutated(*base, *spread);
    CaseRun run = run_case(c, mutated, RunOptions{});
    ASSERT_GE(run.expectations.size(), 1u) << run.error;
    const CheckResult& check = run.expectations[0].check;
    EXPECT_EQ(check.status, Status::Fail) << check.summary;
    EXPECT_THAT(check.summary, HasSubstr("1 of 10 front doors not answered as expected"));
    EXPECT_THAT(check.detail, HasSubstr("clusterIP 10.96.0.13:80/TCP of default/s3: 600/600 answered"));
    EXPECT_THAT(check.detail, HasSubstr("probes where 200.0 were expected (chi-square (2 df)"));
    EXPECT_THAT(check.detail, HasSubstr("false-failure rate 1e-07")) << "1e-6 over 10 doors";
    EXPECT_EQ(run.expectations[0].flow.service, "default/s3");
  }
}

}  // namespace
