// Reads every node's rule counters between the steps of a run, so each
// expectation gets the rules its own probes moved (whatever re-applies reset
// in between), and --coverage the rules no probe moved.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "harness/model/model.h"
#include "harness/rules/counters.h"
#include "harness/topology/topology.h"

namespace harness {

class CounterWatch {
 public:
  // With `coverage`, every rule's text is read after each install, so rules
  // no probe moved can be listed; without it, only when name() asks.
  CounterWatch(const Topology& topo, const Cluster& cluster, const InstallOptions& options, bool coverage);

  // Reads every node's counters anew: after the rules changed.
  void rebase();
  // Before the first install into namespaces built for this run, which hold
  // no rule yet: notes each node's packet statistics for fresh().
  void before_first_install();
  // After that install every counter starts at zero, so an empty start is
  // what a read would give, without a dump of every rule (a large cluster's
  // costliest step: at 5,000 Services 43% of a run's CPU), as long as no
  // packet went through a node in between: the kernel's own IPv6 multicast
  // reports can. ready() checks that the nodes' statistics have not moved and
  // reads the start if they have, so a diagnosis counts exactly its probes.
  // --coverage reads all the same: it lists every rule from that read.
  void fresh();
  // The probes since the last read need no counters (a pass without
  // --coverage): that read is dropped instead of compared, and ready() takes
  // the next probes' start. A read of every rule on every node is the
  // costliest step of a large cluster's run (10,000 Services: some 170,000
  // rules per node), so a passing run reads each state's counters once.
  void skip();
  // Reads the start for the next probes if skip() dropped it, or fresh()
  // assumed it and a packet has passed a node since.
  void ready();
  // The counters that moved since the last read; then reads anew. `name_now`:
  // with the rules' text, read before the rules change again.
  std::vector<RuleCounter> moved(bool name_now = false);
  // Fills in the rules' text, as the rules in place now have it.
  void name(std::vector<RuleCounter>& counters);

  // Every rule seen on any node during the run, with the packets probes moved through it.
  std::vector<RuleCounter> coverage() const;
  // Why counters could not be read, if they could not (empty: they could).
  const std::string& trouble() const { return trouble_; }

 private:
  std::vector<RuleCounter> read_all();
  // No node's packet statistics moved since before_first_install().
  bool quiet_since() const;
  // Runs f; a failure to read counters is noted once, not fatal to the run.
  template <typename F>
  void tolerate(const std::string& node, F f);

  std::vector<NodeCounters> nodes_;
  std::vector<const netns::Namespace*> namespaces_;  // nodes_' own
  bool coverage_;
  std::vector<RuleCounter> last_;
  bool stale_ = false;  // last_ was dropped by skip()
  // Each node's packet statistics before the first install; cleared once
  // fresh()'s empty start was checked or replaced by a read.
  std::vector<std::string> quiet_;
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<Key, uint64_t> seen_;  // (node, table, chain, rule) -> packets moved
  std::string trouble_;
};

}  // namespace harness
