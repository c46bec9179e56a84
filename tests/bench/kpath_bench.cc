// kpath's benchmark (not a test), run by ci/bench.sh: every figure measured in
// one run, side by side, and printed as one table (and JSON):
//   - probes per second through NodePort DNAT, TCP and UDP: kpath's prober
//     (its default two threads, and one) against the bare reference loop
//     (bench/raw_loop.cc, one and two threads) on the same topology, with the
//     pods' UDP receive-buffer drops (UdpRcvbufErrors) during each;
//   - the topology build;
//   - the seed case as a whole `kpath run` process against the shell peer
//     (bench/shell-peer.sh) doing the same scenario.
// The machine is shared and noisy: each figure is measured `repeats` times in
// turn, and the ratios are taken within a repeat, so drift cancels.
//
//   kpath_bench --kpath build/kpath --raw build/bench/kpath_raw_loop
//               --peer bench/shell-peer.sh --json build/bench.json [--repeats 3] [--no-peer]
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "harness/cases/case_loader.h"
#include "harness/generators/kube_iptables.h"
#include "harness/rules/installer.h"
#include "harness/run/runner.h"
#include "harness/topology/topology.h"
#include "harness/traffic/echo_server.h"
#include "harness/traffic/prober.h"
#include "netns/namespace.h"
#include "netns/pins.h"

using namespace harness;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr int kConcurrency = 128;  // the runner's default
constexpr const char* kNodeIp = "192.168.100.1";
constexpr uint16_t kNodePort = 30080;

struct Options {
  std::string kpath = "build/kpath";
  std::string raw = "build/bench/kpath_raw_loop";
  std::string peer = "bench/shell-peer.sh";
  std::string json = "build/bench.json";
  int repeats = 3;
  bool peer_enabled = true;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw kpath::Error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--kpath") o.kpath = value();
    else if (a == "--raw") o.raw = value();
    else if (a == "--peer") o.peer = value();
    else if (a == "--json") o.json = value();
    else if (a == "--repeats") o.repeats = std::max(1, std::stoi(value()));
    else if (a == "--no-peer") o.peer_enabled = false;
    else throw kpath::Error("unknown option " + a);
  }
  return o;
}

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A command's standard output, and whether it exited 0.
std::pair<std::string, bool> capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw kpath::Error("cannot run " + cmd);
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, got);
  int status = pclose(p);
  return {out, WIFEXITED(status) && WEXITSTATUS(status) == 0};
}

std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// The namespace's UDP receive-buffer drops so far (/proc/net/snmp, "Udp:" RcvbufErrors).
long rcvbuf_errors(const netns::Namespace& ns) {
  return ns.run([] {
    std::ifstream in("/proc/thread-self/net/snmp");  // thread-self: this thread's namespace
    std::string names, values;
    while (std::getline(in, names) && std::getline(in, values)) {
      if (!names.starts_with("Udp: ")) continue;
      std::istringstream n(names), v(values);
      std::string name, value;
      while (n >> name && v >> value)
        if (name == "RcvbufErrors") return std::stol(value);
    }
    return -1L;
  });
}

// One probing figure: the rate, the probes answered, the receive-buffer drops,
// and the CPU time per probe of prober and echo servers together (this process
// and the reference loop's): unlike the rate, hardly moved by other load.
struct Sample {
  double rate = 0;
  int answered = 0;
  long drops = 0;
  double cpu_us = 0;
};

// CPU seconds used so far by this process and its waited-for children.
double cpu_seconds() {
  double total = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage u{};
    getrusage(who, &u);
    for (const timeval& t : {u.ru_utime, u.ru_stime}) total += static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
  }
  return total;
}

// The seed case with a UDP port beside the TCP one, for the UDP figure.
Case probe_case() {
  Case c = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml");
  for (auto& pod : c.cluster.pods) pod.listen.push_back({80, Protocol::UDP, ""});
  auto& svc = c.cluster.services.front();
  svc.ports.push_back(svc.ports.front());
  svc.ports.back().protocol = Protocol::UDP;
  svc.ports.back().name = "udp";
  svc.ports.front().name = "tcp";
  for (auto& slice : c.cluster.slices) {
    slice.ports.front().name = "tcp";
    slice.ports.push_back({"udp", Protocol::UDP, 80});
  }
  return c;
}

// The probe topology, its rules and echo servers, and the client's namespace
// pinned for the reference loop (a separate process); unpinned at the end.
class ProbeBench {
 public:
  ProbeBench(const Case& c, const Options& o)
      : case_(c), options_(o), topo_(Topology::build(c.cluster)), prefix_(fmt::format("kpath-bench-{}-", getpid())) {
    auto rules = KubeIptablesGenerator().generate(c.cluster, "master");
    prepare_for_rules(topo_.ns("master"), rules);
    install_rules(topo_.ns("master"), rules, {});
    for (const auto& pod : c.cluster.pods)
      for (const auto& port : pod.listen) servers_.listen(topo_.ns(pod.name), pod.name, port.port, port.protocol);
    servers_.start();
    pinned_ = topo_.pin(prefix_, dirs_);
  }
  ~ProbeBench() {
    servers_.stop();
    for (const auto& p : pinned_) {
      netns::Namespace::unpin(dirs_.pins + "/" + p.name);
      netns::remove_marker(p.name, dirs_);
    }
  }

  Sample kpath(Protocol protocol, int count, int threads) {
    ProbeSpec spec;
    spec.target = kpath::Ip::from(kNodeIp);
    spec.port = kNodePort;
    spec.protocol = protocol;
    spec.count = count;
    spec.concurrency = kConcurrency;
    spec.threads = threads;
    return measure(count, [&](Sample& s) {
      auto t = Clock::now();
      auto results = run_probes(topo_.ns("client"), spec);
      s.rate = count / secs(Clock::now() - t);
      s.answered = static_cast<int>(
          std::count_if(results.begin(), results.end(), [](auto& r) { return r.outcome == Outcome::Reply; }));
    });
  }

  Sample raw(Protocol protocol, int count, int threads) {
    std::string cmd = fmt::format("{} {}/{} {} {} {} {} {} {}", options_.raw, dirs_.pins,
                                  netns::pin_name(prefix_, "client"), kNodeIp, kNodePort,
                                  protocol == Protocol::UDP ? "udp" : "tcp", count, kConcurrency, threads);
    return measure(count, [&](Sample& s) {
      auto [out, ok] = capture(cmd);
      json j = json::parse(last_line(out));
      s.rate = j["rate"];
      s.answered = j["replies"];
      if (!ok) fmt::print(stderr, "warning: {}: {}\n", cmd, out);
    });
  }

 private:
  template <typename F>
  Sample measure(int count, F&& probe) {
    long before = drops();
    double cpu = cpu_seconds();
    Sample s;
    probe(s);
    s.cpu_us = (cpu_seconds() - cpu) * 1e6 / count;
    s.drops = drops() - before;
    return s;
  }

  long drops() {
    long sum = 0;
    for (const auto& pod : case_.cluster.pods) sum += rcvbuf_errors(topo_.ns(pod.name));
    return sum;
  }

  const Case& case_;
  const Options& options_;
  Topology topo_;
  EchoServers servers_;
  std::string prefix_;
  netns::PinDirs dirs_;
  std::vector<netns::PinnedNamespace> pinned_;
};

// A figure's values over the repeats.
struct Figure {
  std::string name;
  std::string unit;
  std::vector<double> values;

  double at(double q) const {
    auto v = values;
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(q * (v.size() - 1) + 0.5)];
  }
};

class Table {
 public:
  void add(const std::string& name, const std::string& unit, double value) {
    auto it = std::find_if(figures_.begin(), figures_.end(), [&](auto& f) { return f.name == name; });
    if (it == figures_.end()) it = figures_.insert(figures_.end(), Figure{name, unit, {}});
    it->values.push_back(value);
  }

  void print() const {
    fmt::print("\n{:<58} {:>10} {:>10} {:>10}  {}\n", "figure", "median", "min", "max", "unit");
    for (const auto& f : figures_)
      fmt::print("{:<58} {:>10} {:>10} {:>10}  {}\n", f.name, number(f.at(0.5)), number(f.at(0)), number(f.at(1)),
                 f.unit);
  }

  json to_json() const {
    json out = json::array();
    for (const auto& f : figures_)
      out.push_back({{"figure", f.name},
                     {"unit", f.unit},
                     {"median", f.at(0.5)},
                     {"min", f.at(0)},
                     {"max", f.at(1)},
                     {"values", f.values}});
    return out;
  }

 private:
  static std::string number(double v) {
    if (v >= 100 || v == static_cast<long>(v)) return fmt::format("{:.0f}", v);
    return v >= 1 ? fmt::format("{:.2f}", v) : fmt::format("{:.3f}", v);
  }
  std::vector<Figure> figures_;
};

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void probe_figures(const Options& o, Table& table) {
  Case c = probe_case();
  ProbeBench bench(c, o);
  for (int r = 0; r < o.repeats; ++r) {
    for (auto [protocol, label, count] : {std::tuple{Protocol::TCP, "TCP", 20000}, {Protocol::UDP, "UDP", 50000}}) {
      Sample k2 = bench.kpath(protocol, count, 2);
      Sample raw1 = bench.raw(protocol, count, 1);
      Sample raw2 = bench.raw(protocol, count, 2);
      Sample k1 = bench.kpath(protocol, count, 1);
      std::string p = label;
      table.add(p + " kpath prober, 2 threads", "probes/s", k2.rate);
      table.add(p + " kpath prober, 1 thread", "probes/s", k1.rate);
      table.add(p + " raw loop, 1 thread", "probes/s", raw1.rate);
      table.add(p + " raw loop, 2 threads", "probes/s", raw2.rate);
      table.add(p + " kpath (2 threads) / best raw", "ratio", k2.rate / std::max(raw1.rate, raw2.rate));
      table.add(p + " kpath (1 thread) / raw (1 thread)", "ratio", k1.rate / raw1.rate);
      table.add(p + " CPU per probe (prober and servers), kpath 2 threads", "us", k2.cpu_us);
      table.add(p + " CPU per probe (prober and servers), raw 2 threads", "us", raw2.cpu_us);
      table.add(p + " CPU per probe, kpath (2 threads) / raw (2 threads)", "ratio", k2.cpu_us / raw2.cpu_us);
      table.add(p + " probes unanswered, kpath 2 threads (of " + std::to_string(count) + ")", "probes",
                count - k2.answered);
      table.add(p + " probes unanswered, raw 2 threads", "probes", count - raw2.answered);
      if (protocol == Protocol::UDP) {
        table.add("UDP receive-buffer drops in the pods, kpath 2 threads", "datagrams", static_cast<double>(k2.drops));
        table.add("UDP receive-buffer drops in the pods, kpath 1 thread", "datagrams", static_cast<double>(k1.drops));
        table.add("UDP receive-buffer drops in the pods, raw 2 threads", "datagrams", static_cast<double>(raw2.drops));
      }
    }
  }
}

void build_figure(Table& table) {
  Case c = probe_case();
  for (int i = 0; i < 20; ++i) {
    auto t = Clock::now();
    Topology topo = Topology::build(c.cluster);
    table.add("topology build (1 node, 2 pods, 1 external)", "ms", secs(Clock::now() - t) * 1000);
  }
}

// The seed case as a whole process, as a user runs it; the probes from its report.
double seed_run(const Options& o, Table& table) {
  std::string report = fmt::format("/tmp/kpath-bench-{}.json", getpid());
  std::string cmd = fmt::format("{} run -g kube-iptables --json {} {}/cases/seed-webapp1-nodeport.yaml >/dev/null 2>&1",
                                o.kpath, report, KPATH_SOURCE_DIR);
  auto t = Clock::now();
  auto [out, ok] = capture(cmd);
  double s = secs(Clock::now() - t);
  if (!ok) fmt::print(stderr, "warning: the seed case did not pass: {}\n", cmd);
  std::ifstream in(report);
  double probes = json::parse(in)["runs"][0]["probes"];
  std::remove(report.c_str());
  table.add("seed case probes, kpath", "probes", probes);
  table.add("seed case, `kpath run -g kube-iptables` whole process", "s", s);
  return s;
}

void seed_figures(const Options& o, Table& table) {
  std::vector<double> kpath;
  for (int r = 0; r < o.repeats; ++r) kpath.push_back(seed_run(o, table));
  if (!o.peer_enabled) return;
  // Once: the peer takes half a minute or more.
  auto [out, ok] = capture(o.peer + " 2>&1");
  fmt::print("shell peer:\n{}", out);
  json peer = json::parse(last_line(out));
  if (!ok) fmt::print(stderr, "warning: the shell peer's checks failed\n");
  double total = peer["total_s"];
  table.add("seed case probes, shell peer", "probes", peer["probes"]);
  table.add("seed case, shell peer whole script", "s", total);
  table.add("seed case, shell peer set-up (namespaces, rules, servers)", "s", peer["setup_s"]);
  table.add("seed case, shell peer probes", "s", peer["probe_s"]);
  for (double k : kpath) table.add("seed case shell peer / kpath (speed-up)", "ratio", total / k);
}

}  // namespace

int main(int argc, char** argv) try {
  Options o = parse(argc, argv);
  std::string load_before = load_average();
  fmt::print("kpath benchmark: {} cores, load average {}, {} repeats\n", sysconf(_SC_NPROCESSORS_ONLN), load_before,
             o.repeats);
  Table table;
  probe_figures(o, table);
  build_figure(table);
  seed_figures(o, table);
  std::string load_after = load_average();
  table.print();
  fmt::print("load average: {} at the start, {} at the end\n", load_before, load_after);
  json j = {{"schema", "kpath.bench/v1"},
            {"cores", sysconf(_SC_NPROCESSORS_ONLN)},
            {"load_average", {{"start", load_before}, {"end", load_after}}},
            {"repeats", o.repeats},
            {"concurrency", kConcurrency},
            {"figures", table.to_json()}};
  std::ofstream(o.json) << j.dump(2) << "\n";
  fmt::print("JSON: {}\n", o.json);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "kpath_bench: {}\n", e.what());
  return 1;
}
