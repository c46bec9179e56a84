// A sweep on the kernel: every front door of every Service probed in one
// expectation, the doors that fail named and counted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/cases/case_loader.h"
#include "harness/run/runner.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;
using ::testing::Not;

// Two nodes, three pods shared by every Service; `deaf` Services send to a
// port no pod listens on.
std::string case_text(int services, int deaf) {
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
  text += "expect:\n  - {name: every door, from: client, sweep: {services: all, show: 3}, probes: 2}\n";
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

}  // namespace
