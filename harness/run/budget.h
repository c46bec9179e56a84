// Host-wide kernel resources a set of runs needs, checked before anything is
// built: the neighbour tables (gc_thresh3 is one limit for every namespace of
// the host), conntrack (nf_conntrack_max, per namespace) and kpath's own
// open files (RLIMIT_NOFILE). kpath reads these limits and never writes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/run/scheduler.h"

namespace harness {

struct HostLimits {
  std::optional<uint64_t> arp_gc_thresh3;  // net.ipv4.neigh.default.gc_thresh3 (host-wide)
  std::optional<uint64_t> ndp_gc_thresh3;  // net.ipv6.neigh.default.gc_thresh3 (host-wide)
  std::optional<uint64_t> conntrack_max;   // net.netfilter.nf_conntrack_max; nullopt: conntrack not loaded
  uint64_t open_files = 0;                 // RLIMIT_NOFILE, soft

  // Reads the limits: gc_thresh3 from /proc/sys (only the root namespace
  // shows it), nf_conntrack_max inside a scratch kpath namespace. Raises
  // kpath's own soft RLIMIT_NOFILE to the hard limit first (a process
  // setting, not the host's).
  static HostLimits read();
};

// What one run needs at most while it runs.
struct RunNeeds {
  uint64_t arp = 0;        // learned IPv4 neighbour entries (the fabric; pod links are permanent)
  uint64_t ndp = 0;        // learned IPv6 neighbour entries
  uint64_t conntrack = 0;  // entries in one node namespace: one per probe at most
  uint64_t files = 0;      // file descriptors kpath holds for it
};

// kpath takes at most this share of a host-wide neighbour table; the rest is
// the host's and its other users'.
inline constexpr uint64_t kNeighbourShareDivisor = 2;

RunNeeds needs_of(const Task& task, const RunOptions& options);

// Why the tasks cannot run at `jobs` at a time without overflowing a host
// table or kpath's open files ("... net.ipv4.neigh.default.gc_thresh3 = 1024
// ..."), or nullopt when they fit.
std::optional<std::string> over_budget(const std::vector<Task>& tasks, const RunOptions& options, int jobs,
                                       const HostLimits& limits);

}  // namespace harness
