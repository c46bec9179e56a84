#include "harness/verdict/sweep_check.h"

#include <fmt/format.h>

#include <algorithm>

namespace harness {

namespace {

Outcome wanted_outcome(Verdict v) {
  return v == Verdict::Reachable ? Outcome::Reply : v == Verdict::Refused ? Outcome::Refused : Outcome::Timeout;
}

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
  auto it = t.outcomes.find(wanted_outcome(want));
  return !t.strangers.empty() || it == t.outcomes.end() || it->second != probes;
}

// Which kind of address each backend saw, as check_probes counts it.
const char* source_class(const std::vector<Ip>& nodes, const Flow& f, const Ip& peer) {
  auto in = [&](const std::vector<Ip>& ips) { return std::find(ips.begin(), ips.end(), peer) != ips.end(); };
  return in(nodes) ? "node" : in(f.from_ips) ? "client" : "other";
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
  std::map<FrontDoor, std::pair<int, int>> by_door;  // kind -> (failed, all)
  int failed = 0;
  for (size_t d = 0; d < doors.size(); ++d) {
    auto& [bad, all] = by_door[doors[d].door];
    ++all;
    if (!door_failed(tally[d], want, probes[d])) continue;
    ++bad;
    if (failed++ == 0) out.first_failure = d;
    if (failed <= e.sweep->shown)
      r.detail += fmt::format("    {}: {}\n", describe(doors[d]), why_failed(tally[d], flows[d], want));
  }
  std::string kinds;
  for (const auto& [door, n] : by_door)
    kinds += fmt::format("{}{} {}/{}", kinds.empty() ? "" : ", ", to_string(door), failed ? n.first : n.second,
                         n.second);
  if (failed == 0) {
    r.summary = fmt::format("{}/{} front doors {} ({}; {} probe{} each)", doors.size(), doors.size(),
                            want == Verdict::Reachable ? "answered" : to_string(want), kinds, e.probes,
                            e.probes == 1 ? "" : "s");
    return out;
  }
  r.status = Status::Fail;
  r.summary = fmt::format("{} of {} front doors not {} (failed per door: {})", failed, doors.size(),
                          want == Verdict::Reachable ? "answered" : to_string(want), kinds);
  if (failed > e.sweep->shown) r.detail += fmt::format("    ... and {} more failing doors\n", failed - e.sweep->shown);
  return out;
}

}  // namespace harness
