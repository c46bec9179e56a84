// The probe client: opens many short connections (or datagrams) from inside one
// namespace with bounded concurrency and a per-probe timeout, and classifies
// each: a reply (who answered, what source it saw), a leak (the topology's
// sink answered), or refused (by an ICMP error, with its sender, or by a TCP
// RST), reset, timeout, unreachable.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "harness/traffic/probe_result.h"
#include "harness/model/model.h"
#include "netns/namespace.h"

namespace harness {

// Where one probe goes.
struct ProbeTarget {
  kpath::Ip address;
  uint16_t port = 0;
  Protocol protocol = Protocol::TCP;
};

struct ProbeSpec {
  kpath::Ip target;
  uint16_t port = 0;
  Protocol protocol = Protocol::TCP;
  int count = 1;
  int concurrency = 64;
  std::chrono::milliseconds timeout{1000};
  std::optional<kpath::Ip> source;  // bind to this source address
  uint16_t source_port = 0;         // bind to this source port (one flow; probes run one at a time)
  // Probe i binds to sources[i % size()] (many clients from one namespace);
  // empty: `source`, or the kernel's choice.
  std::vector<kpath::Ip> sources;
  // TCP only: sent once connected, and the answer read as HTTP (status and
  // body) instead of an echo reply. Empty: the server speaks first.
  std::string http_request;
  // Record each probe's own source port in ProbeResult::local_port (for
  // sourcePorts: random). Off by default: the getsockname() it takes was 4% of
  // the benchmark's samples, the largest cost the reference loop does not have.
  bool local_ports = false;
  std::atomic<int>* progress = nullptr;  // counts finished probes, for changes made mid-run
  // No probe starts after this, and the ones still open then are dropped:
  // run_probes returns fewer results than `count`.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Many flows in one batch (a sweep): probe i goes to targets[i % size()],
  // and target, port and protocol are unused. Empty: one flow.
  std::vector<ProbeTarget> targets;
  // SIGINT/SIGTERM: looked at every 50 ms; once set, the probes end as at the deadline.
  const std::atomic<bool>* stop = nullptr;
  // Probing threads sharing the batch (and `concurrency` between them), at
  // most one per core: each send runs the whole kernel path (veth, conntrack,
  // NAT) inside its system call, so one thread is the bound on a busy path.
  int threads = 2;
};

// Runs every probe of spec from namespace `from` and returns one result per
// probe, in order; at spec.deadline or a stop, only the probes that finished.
std::vector<ProbeResult> run_probes(const netns::Namespace& from, const ProbeSpec& spec);

}  // namespace harness
