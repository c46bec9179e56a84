// examples/python-proxy on the kernel: the outcomes its README documents hold
// (a ClusterIP case passes; a NodePort to another node's endpoint fails for
// want of masquerading, with timeouts and only the local endpoint answering).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/cases/case_loader.h"
#include "harness/run/runner.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;

const std::string kProxy = "proxy:/usr/bin/python3 " + std::string(KPATH_SOURCE_DIR) +
                           "/examples/python-proxy/proxy.py";

bool has_python_kubernetes() { return std::system("/usr/bin/python3 -c 'import kubernetes' 2>/dev/null") == 0; }

// Runs the expectations whose names start with one of `rows` (all when empty).
CaseRun run_behaviour(const std::string& file, const std::vector<std::string>& rows = {}) {
  Case c = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/behaviours/" + file);
  RunOptions options;
  for (const auto& e : c.expect)
    for (const auto& row : rows)
      if (e.name.starts_with(row)) options.selected.push_back(&e);
  if (!rows.empty() && options.selected.empty()) throw std::runtime_error("no expectation of " + file + " selected");
  CaseRun run = run_case(c, GeneratorSpec::parse(kProxy, ""), options);
  // The expectations point into c: keep only what the test reads.
  for (auto& er : run.expectations) er.expectation = nullptr;
  return run;
}

TEST(PythonProxy, PassesPodAndNodeToClusterIp) {
  KPATH_REQUIRE_NET_ADMIN();
  if (!has_python_kubernetes()) GTEST_SKIP() << "python3-kubernetes is not installed (ci/install-deps.sh)";
  // The rows with pods and nodes as clients; the example writes no masquerade,
  // so the external-client and hairpin rows fail (examples/python-proxy/README.md).
  CaseRun run = run_behaviour("b02-pod-to-clusterip.yaml",
                              {"a non-endpoint pod reaches", "the node reaches", "the other node reaches"});
  EXPECT_EQ(run.status, Status::Pass) << run.error;
  EXPECT_EQ(run.expectations.size(), 4u);
  ASSERT_FALSE(run.convergence.empty());
  EXPECT_EQ(run.convergence[0].how, "rules stable");
}

TEST(PythonProxy, FailsANodePortToAnotherNodeWithoutMasquerade) {
  KPATH_REQUIRE_NET_ADMIN();
  if (!has_python_kubernetes()) GTEST_SKIP() << "python3-kubernetes is not installed (ci/install-deps.sh)";
  CaseRun run = run_behaviour("b01-etp-cluster-nodeport.yaml", {"TCP to node-a's NodePort"});
  ASSERT_EQ(run.expectations.size(), 1u) << run.error;
  const CheckResult& check = run.expectations[0].check;
  EXPECT_EQ(check.status, Status::Fail);
  EXPECT_THAT(check.summary, HasSubstr("timeout"));
  // Only node-a's own endpoint answered its NodePort.
  EXPECT_EQ(check.backends.size(), 1u);
  EXPECT_EQ(check.backends.count("web-a"), 1u);
}

}  // namespace
