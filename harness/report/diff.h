// `kpath diff`: the same cases through two generators, and only where their
// observed outcomes differ: the verdict, the backends that answered, the
// source class the backends saw (node, client, other). A proxy author sees at
// once where an implementation departs from kube-proxy.
//
// Counts are not compared: two uniform spreads with different counts are the
// same behaviour. An outcome, backend or source class seen on one side only
// is a difference when the other side's probes make missing it implausible
// (below the expectation's false-failure rate), so a backend that three
// probes happened not to reach is no difference. With `backends: sticky`
// which backend is chosen is chance: only how many answered is compared; with
// `during:` endpoint changes who answers depends on when the new rules land:
// only the verdict is compared.
#pragma once

#include <string>
#include <vector>

#include "harness/run/run_result.h"

namespace harness {

struct Difference {
  std::string case_name;
  std::string file;
  std::string expectation;
  std::string where;   // file:line of the expectation
  std::string aspect;  // "verdict", "backends" or "source"
  std::string a, b;    // what each generator showed
  // The case declares it (its except: entries want different verdicts, and
  // each side showed its own).
  bool declared = false;
  std::string declaration;  // "except: {nftables: reachable}"
};

struct DiffResult {
  std::string a, b;     // the generators' names
  size_t compared = 0;  // expectations both ran
  std::vector<Difference> differences;
  // Declared by the cases but not observed: both sides behaved alike.
  std::vector<std::string> declared_not_seen;
  // Runs without a partner or that did not run (skip, error, a pinned case).
  std::vector<std::string> not_compared;
  bool errors = false;  // a run stopped with an error: the comparison is incomplete

  size_t undeclared() const;
  // 0: no undeclared difference; 1: some; 3: none, but a run errored.
  int exit_status() const;
};

// Pairs the runs of each case (the first with generator a, then b, as plan()
// makes them) and compares every expectation both ran.
DiffResult diff_runs(const std::vector<CaseRun>& runs, const std::string& a, const std::string& b);

std::string format_diff(const DiffResult& d);

}  // namespace harness
