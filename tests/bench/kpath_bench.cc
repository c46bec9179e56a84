// kpath's benchmark (not a test): probe rates, topology build and the seed case
// end to end, each next to the shell peer a user would otherwise write
// (`ip netns exec client bash -c 'exec 3<>/dev/tcp/...'` per probe), measured in
// the same run. Figures to quote are the ratios and counts, not the seconds.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "harness/cases/case_loader.h"
#include "harness/traffic/echo_server.h"
#include "harness/rules/installer.h"
#include "harness/traffic/prober.h"
#include "harness/run/runner.h"
#include "harness/topology/topology.h"
#include "harness/generators/kube_iptables.h"
#include "netns/namespace.h"
#include "netns/pins.h"

using namespace harness;
using Clock = std::chrono::steady_clock;

namespace {

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double probes_per_second(const netns::Namespace& from, ProbeSpec spec) {
  auto t = Clock::now();
  auto results = run_probes(from, spec);
  double s = secs(Clock::now() - t);
  int ok = static_cast<int>(
      std::count_if(results.begin(), results.end(), [](auto& r) { return r.outcome == Outcome::Reply; }));
  if (ok != spec.count) fmt::print(stderr, "warning: {} of {} probes answered\n", ok, spec.count);
  return spec.count / s;
}

// The shell peer: one process start per probe, as a script would do it.
double shell_probes_per_second(const std::string& pinned_client, int count) {
  std::string cmd = fmt::format(
      "for i in $(seq {}); do ip netns exec {} bash -c 'exec 3<>/dev/tcp/192.168.100.1/30080; cat <&3' >/dev/null "
      "|| exit 1; done",
      count, pinned_client);
  auto t = Clock::now();
  int rc = std::system(cmd.c_str());
  double s = secs(Clock::now() - t);
  if (rc != 0) fmt::print(stderr, "warning: shell peer failed ({})\n", rc);
  return count / s;
}

}  // namespace

int main() {
  Case seed = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml");
  // A UDP port beside the TCP one, for the UDP figure.
  for (auto& pod : seed.cluster.pods) pod.listen.push_back({80, Protocol::UDP, ""});
  auto& svc = seed.cluster.services.front();
  svc.ports.push_back(svc.ports.front());
  svc.ports.back().protocol = Protocol::UDP;
  svc.ports.back().name = "udp";
  svc.ports.front().name = "tcp";
  for (auto& slice : seed.cluster.slices) {
    slice.ports.front().name = "tcp";
    slice.ports.push_back({"udp", Protocol::UDP, 80});
  }

  std::vector<double> builds;
  for (int i = 0; i < 20; ++i) {
    auto t = Clock::now();
    Topology topo = Topology::build(seed.cluster);
    builds.push_back(secs(Clock::now() - t) * 1000);
  }
  std::sort(builds.begin(), builds.end());

  Topology topo = Topology::build(seed.cluster);
  auto rules = KubeIptablesGenerator().generate(seed.cluster, "master");
  prepare_for_rules(topo.ns("master"), rules);
  install_rules(topo.ns("master"), rules, {});
  EchoServers servers;
  for (const auto& pod : seed.cluster.pods)
    for (const auto& port : pod.listen) servers.listen(topo.ns(pod.name), pod.name, port.port, port.protocol);
  servers.start();

  ProbeSpec tcp;
  tcp.target = kpath::Ip::from("192.168.100.1");
  tcp.port = 30080;
  tcp.count = 20000;
  tcp.concurrency = 128;
  double tcp_rate = 0;
  for (int c : {8, 32, 128, 512}) {
    tcp.concurrency = c;
    double r = probes_per_second(topo.ns("client"), tcp);
    fmt::print("  TCP concurrency {}: {:.0f}/s\n", c, r);
    tcp_rate = std::max(tcp_rate, r);
  }
  ProbeSpec udp = tcp;
  udp.protocol = Protocol::UDP;
  udp.count = 50000;
  double udp_rate = probes_per_second(topo.ns("client"), udp);

  const std::string prefix = fmt::format("kpath-bench-{}-", getpid());
  netns::PinDirs dirs;
  auto pinned = topo.pin(prefix, dirs);
  double shell_rate = shell_probes_per_second(prefix + "client", 200);
  for (const auto& p : pinned) {
    netns::Namespace::unpin(dirs.pins + "/" + p.name);
    netns::remove_marker(p.name, dirs);
  }
  servers.stop();

  Case plain = load_case(std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml");
  std::vector<double> ends;
  uint64_t probes = 0;
  for (int i = 0; i < 5; ++i) {
    auto run = run_case(plain, GeneratorSpec::parse("kube-iptables", ""), {});
    if (run.status != Status::Pass) fmt::print(stderr, "warning: seed case did not pass\n");
    ends.push_back(secs(run.total));
    probes = run.probes;
  }
  std::sort(ends.begin(), ends.end());
  double shell_seed = probes / shell_rate;  // the peer's traffic alone, no set-up

  fmt::print("topology build (1 node, 2 pods, 1 external): median {:.1f} ms of 20\n", builds[10]);
  fmt::print("TCP probes through NodePort DNAT: {:.0f}/s (shell peer {:.0f}/s; ratio {:.0f}x)\n", tcp_rate, shell_rate,
             tcp_rate / shell_rate);
  fmt::print("UDP probes through NodePort DNAT (new source port each): {:.0f}/s\n", udp_rate);
  fmt::print(
      "seed case end to end ({} probes): median {:.2f} s of 5; the shell peer's probes alone: {:.1f} s "
      "(ratio {:.0f}x)\n",
      probes, ends[2], shell_seed, shell_seed / ends[2]);
  return 0;
}
