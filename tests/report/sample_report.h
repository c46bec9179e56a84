// A report built in code, as the reports' tests read it: a hostile name, a
// failed distribution, a run interrupted after two of five expectations, a
// generator error before any probe, a run that never started, a rejected file.
#pragma once

#include <fmt/format.h>

#include <string>

#include "harness/report/report.h"

namespace harness::testing_support {

// A byte that is not UTF-8, U+FFFE, an ANSI colour, markup (a closing tag
// and a script) and a control character, in one name.
inline const std::string kHostile =
    std::string("evil\xff\xfe-\xef\xbf\xbe-\x1b[31mred\x1b[0m-<&\"'></svg><script>alert(1)</script>-\x01-") +
    "\xc3\xa9";

inline Case make_case(const std::string& name, int expectations) {
  Case c;
  c.name = name;
  c.file = "cases/" + name + ".yaml";
  for (int i = 0; i < expectations; ++i) {
    Expectation e;
    e.name = fmt::format("{} expectation {}", name, i + 1);
    e.where = {c.file, 10 + i, 5};
    c.expect.push_back(e);
  }
  return c;
}

inline ExpectationRun ran(const Expectation& e, Status status, std::map<std::string, uint64_t> backends = {},
                          std::map<std::string, double> expected = {}, double p = -1) {
  ExpectationRun er;
  er.expectation = &e;
  er.check.status = status;
  er.check.backends = backends;
  er.check.expected = expected;
  er.check.p_value = p;
  er.check.alpha = 1e-6;
  uint64_t replies = 0;
  for (const auto& [pod, n] : backends) replies += n;
  if (replies) er.check.outcomes[Outcome::Reply] = static_cast<int>(replies);
  if (replies) er.check.sources["node"] = replies;
  er.probes = static_cast<int>(replies);
  er.check.summary = status == Status::Pass ? fmt::format("{0}/{0} answered", replies)
                                            : "distribution does not fit (p = 1e-40 < 1e-06)";
  er.check.detail = status == Status::Pass ? "" : "    backend  expected  observed\n";
  return er;
}

struct SampleReport {
  Case hostile = make_case(kHostile, 2);
  Case interrupted = make_case("interrupted", 5);
  Case errored = make_case("errored", 5);
  Report report;

  SampleReport() {
    report.env.kpath_version = "kpath 0.1.0 (commit 0123456789ab)";
    report.env.host.kernel = "6.1.0-test";
    report.env.host.iptables_nft = "iptables v1.8.9 (nf_tables)";
    report.env.host.iptables_legacy = "iptables v1.8.9 (legacy)";
    report.env.host.nft = "nftables v1.0.6";
    report.env.hostname = "ci-runner-7";
    report.env.started = std::chrono::system_clock::from_time_t(1767225600);  // 2026-01-01T00:00:00Z
    report.interrupted = true;

    CaseRun h = new_run(hostile, kHostile, ProxyMode::None);
    h.expectations = {ran(hostile.expect[0], Status::Pass, {{"pod-a", 1012}, {"pod-b", 988}},
                          {{"pod-a", 1000}, {"pod-b", 1000}}, 0.59),
                      ran(hostile.expect[1], Status::Fail, {{"pod-a", 2000}, {kHostile, 7}},
                          {{"pod-a", 1000}, {"pod-b", 1000}, {kHostile, 0}}, 1e-40)};
    h.status = Status::Fail;
    h.expectations[1].diagnosis = "  rules on master: [12:720] -A KUBE-SVC-\x1b[0m\n";
    // Interrupted after two of five expectations.
    CaseRun i = new_run(interrupted, "kube-iptables", ProxyMode::Iptables);
    i.expectations = {ran(interrupted.expect[0], Status::Pass, {{"web-1", 150}, {"web-2", 150}}),
                      ran(interrupted.expect[1], Status::Pass)};
    // A generator error before any probe.
    CaseRun e = new_run(errored, "exec:false", ProxyMode::None);
    e.status = Status::Error;
    e.error = "exec:false exited 1\nits stderr";
    // Never started.
    CaseRun n = new_run(interrupted, "kube-nftables", ProxyMode::Nftables);
    n.status = Status::Skip;
    n.error = "interrupted";
    report.runs = {h, i, e, n};
    report.load_errors.push_back({"bad\x1b.yaml", "bad.yaml:3:1: \xff unexpected"});
  }
};

}  // namespace harness::testing_support
