#include "harness/run/budget.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <fstream>
#include <functional>

#include "base/error.h"
#include "netns/namespace.h"
#include "netns/sysctl.h"

namespace harness {

namespace {

std::optional<uint64_t> read_number(const std::string& path) {
  std::ifstream in(path);
  uint64_t v = 0;
  if (in >> v) return v;
  return std::nullopt;
}

// kpath's open-file limit: the soft one raised to the hard one.
uint64_t open_file_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur < r.rlim_max) {
    rlimit raised{r.rlim_max, r.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) r = raised;
  }
  return r.rlim_cur == RLIM_INFINITY ? UINT64_MAX : r.rlim_cur;
}

// Neighbour entries the fabric members (nodes and external clients) may learn
// of each other in one family: every member, every other member's addresses.
uint64_t fabric_neighbours(const Cluster& c, int family) {
  std::vector<uint64_t> per_member;
  auto count = [&](const std::vector<Ip>& ips) {
    uint64_t n = 0;
    for (const auto& ip : ips) n += ip.family() == family;
    per_member.push_back(n);
  };
  for (const auto& n : c.nodes) count(n.ips);
  for (const auto& e : c.externals) count(e.ips);
  uint64_t all = 0;
  for (auto n : per_member) all += n;
  uint64_t out = 0;
  for (auto n : per_member) out += all - n;
  return out;
}

uint64_t listeners(const Cluster& c) {
  uint64_t n = 0;
  for (const auto& pod : c.pods) n += pod.listen.size();
  for (const auto& svc : c.services) n += svc.health_check_node_port != 0 ? c.nodes.size() : 0;
  return n;
}

// One resource: the per-run need, whether runs at once add up, the limit and
// the words for the message.
struct Resource {
  std::function<uint64_t(const RunNeeds&)> need;
  bool adds_up_across_jobs;
  uint64_t limit;
  std::string what;        // "IPv4 neighbour entries"
  std::string limit_text;  // "half of net.ipv4.neigh.default.gc_thresh3 = 1024 (...)"
  std::string remedy;
};

struct Named {
  std::string run;
  RunNeeds needs;
};

// The most `jobs` runs can need at once: the largest ones together.
uint64_t peak(const std::vector<Named>& runs, const Resource& r, int jobs, std::string* largest) {
  std::vector<std::pair<uint64_t, std::string>> each;
  for (const auto& n : runs) each.emplace_back(r.need(n.needs), n.run);
  std::sort(each.begin(), each.end(), std::greater<>());
  size_t k = r.adds_up_across_jobs ? std::min<size_t>(std::max(jobs, 1), each.size())
                                   : std::min<size_t>(1, each.size());
  uint64_t sum = 0;
  for (size_t i = 0; i < k; ++i) {
    sum += each[i].first;
    if (largest) *largest += fmt::format("{}{} {}", largest->empty() ? "" : ", ", each[i].second, each[i].first);
  }
  return sum;
}

std::optional<std::string> check(const std::vector<Named>& runs, const Resource& r, int jobs) {
  std::string largest;
  uint64_t need = peak(runs, r, jobs, &largest);
  if (need <= r.limit) return std::nullopt;
  std::string fits;
  if (r.adds_up_across_jobs)
    for (int j = jobs - 1; j >= 1 && fits.empty(); --j)
      if (peak(runs, r, j, nullptr) <= r.limit) fits = fmt::format("run with -j {} (fits), or ", j);
  return fmt::format("need up to {} {} ({}{}), above {}: {}{}", need, r.what,
                     r.adds_up_across_jobs ? fmt::format("at -j {}: ", jobs) : "", largest, r.limit_text, fits,
                     r.remedy);
}

}  // namespace

HostLimits HostLimits::read() {
  HostLimits l;
  l.arp_gc_thresh3 = read_number("/proc/sys/net/ipv4/neigh/default/gc_thresh3");
  l.ndp_gc_thresh3 = read_number("/proc/sys/net/ipv6/neigh/default/gc_thresh3");
  try {
    // The limit as a kpath namespace sees it (missing: conntrack not loaded yet).
    l.conntrack_max = std::stoull(netns::get_sysctl(netns::Namespace::create(), "net/netfilter/nf_conntrack_max"));
  } catch (const std::exception&) {
    l.conntrack_max = std::nullopt;
  }
  l.open_files = open_file_limit();
  return l;
}

RunNeeds needs_of(const Task& task, const RunOptions& options) {
  const Cluster& c = task.c->cluster;
  RunNeeds n;
  // A node or client may also resolve an address nobody holds (one entry per
  // expectation's target at most).
  n.arp = fabric_neighbours(c, AF_INET) + task.expectations.size();
  n.ndp = fabric_neighbours(c, AF_INET6) + task.expectations.size();
  // Every probe opens at most one entry in each node it passes; a run's
  // entries may all still be there at its end.
  for (const auto* e : task.expectations) n.conntrack += static_cast<uint64_t>(std::max(e->probes, 0));
  // Held for the whole run: a fd per namespace and, while building, a netlink
  // socket per namespace; listeners; probes in flight; installers and counters.
  uint64_t namespaces = 1 + c.nodes.size() + c.pods.size() + c.externals.size();
  n.files = 2 * namespaces + listeners(c) + static_cast<uint64_t>(options.concurrency) + 2 * c.nodes.size() + 32;
  return n;
}

std::optional<std::string> over_budget(const std::vector<Task>& tasks, const RunOptions& options, int jobs,
                                       const HostLimits& limits) {
  std::vector<Named> runs;
  uint64_t kept = 0;  // --keep on a terminal: every run's listeners stay open
  for (const auto& t : tasks) {
    runs.push_back({fmt::format("{} ({})", t.c->name, t.generator.name()), needs_of(t, options)});
    if (options.keep && options.keep_serving) kept += listeners(t.c->cluster);
  }
  std::vector<Resource> resources;
  auto neighbours = [&](std::optional<uint64_t> thresh, int v, std::function<uint64_t(const RunNeeds&)> need) {
    if (!thresh) return;
    resources.push_back({need, true, *thresh / kNeighbourShareDivisor,
                         fmt::format("IPv{} neighbour entries on the fabric", v),
                         fmt::format("kpath's share, half of net.ipv{}.neigh.default.gc_thresh3 = {} (one limit for "
                                     "every namespace of the host)",
                                     v, *thresh),
                         "raise that sysctl (kpath never writes it)"});
  };
  neighbours(limits.arp_gc_thresh3, 4, [](const RunNeeds& n) { return n.arp; });
  neighbours(limits.ndp_gc_thresh3, 6, [](const RunNeeds& n) { return n.ndp; });
  if (limits.conntrack_max)
    resources.push_back({[](const RunNeeds& n) { return n.conntrack; }, false, *limits.conntrack_max,
                         "conntrack entries in one node namespace (one per probe)",
                         fmt::format("net.netfilter.nf_conntrack_max = {} (as a kpath namespace reads it; the limit "
                                     "holds per namespace, so -j does not add up)",
                                     *limits.conntrack_max),
                         "lower the probes: of the case, or raise that sysctl (kpath never writes it)"});
  if (limits.open_files > kept)
    resources.push_back({[](const RunNeeds& n) { return n.files; }, true, limits.open_files - kept, "open files",
                         fmt::format("kpath's RLIMIT_NOFILE = {}{}", limits.open_files,
                                     kept ? fmt::format(" less {} held by --keep's echo servers", kept) : ""),
                         "raise the hard limit (ulimit -Hn)"});
  else
    return fmt::format(
        "need {} open files for --keep's echo servers alone, above kpath's RLIMIT_NOFILE = {}: raise "
        "the hard limit (ulimit -Hn) or keep fewer runs",
        kept, limits.open_files);
  for (const auto& r : resources)
    if (auto why = check(runs, r, jobs)) return *why;
  return std::nullopt;
}

}  // namespace harness
