// Runs one case against one generator on the kernel: build the topology,
// install the rules on every node, start the echo servers, probe every
// expectation, check, tear down.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "harness/generators/generator.h"
#include "harness/model/model.h"
#include "harness/run/run_result.h"

namespace harness {

struct FeatureReport;  // host/doctor.h

struct RunOptions {
  std::vector<GeneratorSpec> generators;  // --generator; empty: the case's own or the built-ins
  InstallOptions install;
  bool keep = false;    // pin namespaces under /run/netns for inspection
  netns::PinDirs pins;  // where keep pins (rootless: the keeper that holds them)
  std::string run_id;   // names pinned namespaces: netns::pin_name("kpath-<run_id>-", name)
  // With keep: the echo servers outlive the run in CaseRun::serving, so the
  // pinned pods answer until the caller drops it.
  bool keep_serving = false;
  int concurrency = 128;
  bool coverage = false;  // count rule hits; report rules no probe hit
  // After endpoint changes, delete the UDP conntrack entries of endpoints that
  // stopped serving, as kube-proxy does (for generators that ask for it).
  bool conntrack_cleanup = true;
  // Stop probing at the first failing expectation (kpath mutate: one failure
  // decides, the rest would only cost time). The rest stay planned, not run.
  bool fail_fast = false;
  const std::atomic<bool>* stop = nullptr;       // set by SIGINT/SIGTERM
  std::atomic<uint64_t>* probes_sent = nullptr;  // each expectation adds its probes when it ends (progress)
  // The expectations to probe; the others only apply their endpoint changes,
  // so the selected ones see the cluster as in a full run. Empty: all.
  std::vector<const Expectation*> selected;
  // Wall-clock bound on one expectation (endpoint changes and probes); when it
  // passes the probes stop and the expectation fails. Zero: none.
  std::chrono::milliseconds expectation_timeout{0};
  // --artifacts: a running proxy's logs are copied under DIR/<case>/<generator>/. Empty: not kept.
  std::string artifacts_dir;
  // A running proxy (proxy:) that has not converged after this long is an ERROR.
  std::chrono::milliseconds converge_timeout{std::chrono::seconds(60)};
  // Where a running proxy's per-run scratch directory is made.
  std::string scratch_root = "/var/tmp";
  // Kernel features found (kpath doctor); a run needing a missing one is
  // skipped with the reason. nullptr: assume everything is there.
  const FeatureReport* features = nullptr;
};

// The generators a case runs against: its pinned one, else --generator, else
// the ones it lists, else the built-ins.
std::vector<GeneratorSpec> generators_for(const Case& c, const RunOptions& options);

// A run of c against a generator before anything ran: its names and every
// expectation planned.
CaseRun new_run(const Case& c, const std::string& generator, ProxyMode mode);

CaseRun run_case(const Case& c, const GeneratorSpec& spec, const RunOptions& options);
// The same with a generator object (for example a test's mutated generator).
CaseRun run_case(const Case& c, const Generator& generator, const RunOptions& options);

// Sets the state of a pod's endpoint in every slice of the cluster.
void apply_endpoint_change(Cluster& cluster, const EndpointChange& change);

}  // namespace harness
