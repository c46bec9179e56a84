#include "harness/verdict/sweep_check.h"

#include <fmt/format.h>

#include <algorithm>

namespace harness {

namespace {

// What one door's probes saw.
struct DoorTally {
  std::map<Outcome, int> outcomes;
  std::map<std::string, int> strangers;  // replies from pods not eligible for the door
};

std::string why_failed(const DoorTally& t, const Flow& f, Verdict want) {
  std::string seen;
  for (const auto& [o, n] : t.outcomes) seen += fmt::format("{}{} {}", seen.empty() ? "" : ", ", n, to_string(o));
  std::string why = fmt::format("expected {}, observed {}", to_string(want), seen);
  if (t.strangers.empty()) return why;
  std::string who, eligible;
  for (const auto& [pod, n] : t.strangers) who += fmt::format("{}{} ({}x)", who.empty() ? "" : ", ", pod, n);
  for (const auto& [pod, share] : f.eligible) eligible += (eligible.empty() ? "" : ", ") + pod;
  return fmt::format("{}; answered by {}, not an endpoint of it (eligible: {})", why, who,
                     eligible.empty() ? "none" : eligible);
}

bool door_failed(const DoorTally& t, Verdict want, int probes) {
  int shown = 0;
  for (const auto& [o, n] : t.outcomes) shown += shows(want, o) ? n : 0;
  return !t.strangers.empty() || shown != probes;
}

// Which kind of address each backend saw, as check_probes counts it.
const char* source_class(const std::vector<Ip>& nodes, const Flow& f, const Ip& peer) {
  auto in = [&](const std::vector<Ip>& ips) { return std::find(ips.begin(), ips.end(), peer) != ips.end(); };
  return in(nodes) ? "node" : in(f.from_ips) ? "client" : "other";
}

// backends/source, judged door by door as an ordinary expectation through
// that door would be, each at an equal part of the sweep's false-failure
// rate, so that the whole sweep keeps the rate it declares.
Expectation door_expectation(const Expectation& sweep, size_t doors) {
  Expectation e = sweep;
  e.sweep.reset();
  e.false_failure_rate = std::max(1e-15, sweep.false_failure_rate / static_cast<double>(doors));
  return e;
}

bool judges_replies(const Expectation& e) {
  return e.backends.kind != BackendExpectation::Kind::Any || e.source != SourceExpectation::Any;
}

}  // namespace

SweepCheck check_sweep(const Cluster& c, const Expectation& e, const std::vector<DoorTarget>& doors,
                       const std::vector<Flow>& flows, Verdict want, const std::vector<ProbeResult>& results) {
  SweepCheck out;
  CheckResult& r = out.check;
  r.want = want;
  std::vector<DoorTally> tally(doors.size());
  std::vector<int> probes(doors.size(), 0);
  const std::vector<Ip> nodes = node_addresses(c);
  for (size_t i = 0; i < results.size() && !doors.empty(); ++i) {
    const ProbeResult& p = results[i];
    size_t d = i % doors.size();
    ++probes[d];
    ++tally[d].outcomes[p.outcome];
    ++r.outcomes[p.outcome];
    if (p.outcome != Outcome::Reply) continue;
    ++r.backends[p.reply.backend];
    ++r.sources[source_class(nodes, flows[d], p.reply.peer)];
    if (!flows[d].eligible.count(p.reply.backend)) ++tally[d].strangers[p.reply.backend];
  }
  const bool judged = judges_replies(e) && want == Verdict::Reachable;
  std::vector<std::vector<ProbeResult>> per_door(judged ? doors.size() : 0);
  for (size_t i = 0; i < results.size() && judged; ++i) per_door[i % doors.size()].push_back(results[i]);
  const Expectation one_door = door_expectation(e, std::max<size_t>(doors.size(), 1));
  std::map<FrontDoor, std::pair<int, int>> by_door;  // kind -> (failed, all)
  int failed = 0;
  for (size_t d = 0; d < doors.size(); ++d) {
    auto& [bad, all] = by_door[doors[d].door];
    ++all;
    std::string why;
    if (door_failed(tally[d], want, probes[d])) {
      why = why_failed(tally[d], flows[d], want);
    } else if (judged) {
      CheckResult door = check_probes(c, one_door, flows[d], want, per_door[d]);
      if (door.status == Status::Fail) why = door.summary + (failed == 0 ? "\n" + door.detail : "");
    }
    if (why.empty()) continue;
    ++bad;
    if (failed++ == 0) out.first_failure = d;
    if (failed <= e.sweep->shown) {
      if (!why.empty() && why.back() == '\n') why.pop_back();
      r.detail += fmt::format("    {}: {}\n", describe(doors[d]), why);
    }
  }
  std::string kinds;
  for (const auto& [door, n] : by_door)
    kinds += fmt::format("{}{} {}/{}", kinds.empty() ? "" : ", ", to_string(door), failed ? n.first : n.second,
                         n.second);
  if (failed == 0) {
    std::string judged_text;
    if (judged && e.backends.kind == BackendExpectation::Kind::Uniform) judged_text += ", backends uniform";
    if (judged && e.source != SourceExpectation::Any)
      judged_text += e.source == SourceExpectation::Node ? ", source node" : ", source client";
    if (judged && e.backends.kind == BackendExpectation::Kind::Uniform)
      judged_text += fmt::format(" (false-failure rate {:.0e} per door)", one_door.false_failure_rate);
    r.summary = fmt::format("{}/{} front doors {} ({}; {} probe{} each{})", doors.size(), doors.size(),
                            want == Verdict::Reachable ? "answered" : to_string(want), kinds, e.probes,
                            e.probes == 1 ? "" : "s", judged_text);
    return out;
  }
  r.status = Status::Fail;
  r.summary = fmt::format("{} of {} front doors not {} (failed per door: {})", failed, doors.size(),
                          want != Verdict::Reachable ? to_string(want)
                          : judged                   ? "answered as expected"
                                                     : "answered",
                          kinds);
  if (failed > e.sweep->shown) r.detail += fmt::format("    ... and {} more failing doors\n", failed - e.sweep->shown);
  return out;
}

}  // namespace harness
