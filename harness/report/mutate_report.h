// `kpath mutate`'s input and output: the checked-in list of mutants no
// kernel-visible behaviour can reveal (ci/mutate-unobservable.yaml), the
// progress, and the closing report with its one summary line.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "harness/run/mutate.h"

namespace harness {

// Reads the declared-unobservable list:
//
//   unobservable:
//     - generator: kube-iptables      # or mode: iptables | nftables; neither: any generator
//       rule: '-m comment --comment'  # ECMAScript, searched in the mutant's rule text
//       change: removed               # optional: removed | perturbed
//       reason: why no kernel-visible behaviour can reveal it
//
// Throws kpath::Error naming the file and line for anything else.
std::vector<Unobservable> load_unobservable(const std::string& path);

// One line per mutant of the runs, CASE<TAB>GENERATOR<TAB>NODE<TAB>MUTANT,
// with "<TAB>unobservable" after the ones the list declares. Generates the
// rules only: no kernel, no root. Throws kpath::Error when generation fails.
std::string list_mutants(const std::vector<Task>& tasks, const std::vector<Unobservable>& declared);

// "mutants: K killed, S survived, U unobservable" (and ", E errors" when any).
std::string mutation_summary(const MutationResult& result);

// The survivors (case, generator, node, rule), the runs that could not be
// measured, the mutants that errored, the kills by install failure, each
// declared entry that matched with its reason (once), then the summary line.
// `verbose` also lists every killed mutant with the expectation that caught it.
std::string format_mutation(const MutationResult& result, const std::vector<Unobservable>& declared,
                            bool verbose = false);

// 3 when a run could not be measured or a mutant errored (the count is
// incomplete), else 1 when a mutant survived, else 0.
int mutation_exit_status(const MutationResult& result);

// Progress on stderr: on a terminal one line redrawn per mutant ("mutant
// 12/340: 11 killed, 1 survived"); elsewhere a line per survivor or error and
// one every 25 mutants.
class MutantProgress {
 public:
  MutantProgress(std::FILE* out, bool live) : out_(out), live_(live) {}
  ~MutantProgress();
  MutantProgress(const MutantProgress&) = delete;
  MutantProgress& operator=(const MutantProgress&) = delete;

  void started(size_t total);
  void done(const MutantResult& r, size_t finished, size_t total);

 private:
  std::FILE* out_;
  bool live_;
  size_t killed_ = 0, survived_ = 0, errors_ = 0;
  bool drawn_ = false;
};

}  // namespace harness
