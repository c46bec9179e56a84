#include "harness/run/counter_watch.h"

#include <fmt/format.h>

#include "base/error.h"
#include "base/file.h"

namespace harness {

CounterWatch::CounterWatch(const Topology& topo, const Cluster& cluster, const InstallOptions& options, bool coverage)
    : coverage_(coverage) {
  for (const auto& node : cluster.nodes) {
    nodes_.emplace_back(topo.ns(node.name), node.name, options);
    namespaces_.push_back(&topo.ns(node.name));
  }
}

namespace {

// Every packet a node's rules can count is received by IP there (InReceives)
// or sent from there (OutRequests, ICMP out, a device's tx): the namespace's
// IP, ICMP and device statistics together move with any such packet. Other
// fields of these files move only with traffic too, so the whole text is
// compared.
std::string packet_statistics(const netns::Namespace& ns) {
  return ns.run([] {
    std::string out;
    for (const char* file : {"snmp", "snmp6", "dev"}) {  // /proc/self/net would be the process's namespace
      auto text = kpath::read_file_if_present(std::string("/proc/thread-self/net/") + file);
      // Unreadable is no proof of quiet; snmp6 alone is absent where IPv6 is, with its packets.
      if (!text && std::string(file) != "snmp6") throw kpath::Error(std::string("cannot read /proc/net/") + file);
      out += text.value_or("") + "\n";
    }
    return out;
  });
}

}  // namespace

template <typename F>
void CounterWatch::tolerate(const std::string& node, F f) {
  try {
    f();
  } catch (const kpath::Error& e) {
    if (trouble_.empty()) trouble_ = fmt::format("rule counters on {} could not be read: {}", node, e.what());
  }
}

std::vector<RuleCounter> CounterWatch::read_all() {
  std::vector<RuleCounter> out;
  for (const auto& n : nodes_)
    tolerate(n.node(), [&] {
      for (auto& c : n.read()) out.push_back(std::move(c));
    });
  return out;
}

void CounterWatch::name(std::vector<RuleCounter>& counters) {
  for (auto& n : nodes_) tolerate(n.node(), [&] { n.name_rules(counters); });
}

void CounterWatch::rebase() {
  quiet_.clear();
  for (auto& n : nodes_) n.rules_changed();
  stale_ = false;
  last_ = read_all();
  if (!coverage_) return;
  name(last_);
  for (const auto& c : last_) seen_.try_emplace({c.node, c.table, c.chain, c.rule}, 0);
}

void CounterWatch::before_first_install() {
  quiet_.clear();
  try {
    for (const auto* ns : namespaces_) quiet_.push_back(packet_statistics(*ns));
  } catch (const kpath::Error&) {
    quiet_.clear();  // fresh() reads instead
  }
}

bool CounterWatch::quiet_since() const {
  try {
    for (size_t i = 0; i < quiet_.size(); ++i)
      if (packet_statistics(*namespaces_[i]) != quiet_[i]) return false;
    return true;
  } catch (const kpath::Error&) {
    return false;
  }
}

void CounterWatch::fresh() {
  if (coverage_ || quiet_.empty()) return rebase();
  for (auto& n : nodes_) n.rules_changed();
  last_ = {};
  stale_ = false;
}

void CounterWatch::skip() {
  last_ = {};  // frees it: the next read may be as large
  stale_ = true;
}

void CounterWatch::ready() {
  const bool moved_since = !quiet_.empty() && !quiet_since();
  quiet_.clear();  // checked once: later starts are read or dropped by skip()
  if (!stale_ && !moved_since) return;
  stale_ = false;
  last_ = read_all();
}

std::vector<RuleCounter> CounterWatch::moved(bool name_now) {
  ready();  // a caller that skipped and did not call ready() compares with now: no moves, not all of them
  auto now = read_all();
  auto moves = counter_moves(last_, now);
  if (name_now || coverage_) name(moves);
  if (coverage_)
    for (const auto& m : moves) seen_[{m.node, m.table, m.chain, m.rule}] += m.packets;
  last_ = std::move(now);
  return moves;
}

std::vector<RuleCounter> CounterWatch::coverage() const {
  std::vector<RuleCounter> out;
  for (const auto& [key, packets] : seen_) {
    const auto& [node, table, chain, rule] = key;
    out.push_back({node, table, chain, rule, packets});
  }
  return out;
}

}  // namespace harness
