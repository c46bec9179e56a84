#include "harness/run/runner.h"

#include <fmt/format.h>

#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "base/scratch_dir.h"
#include "harness/generators/registry.h"
#include "harness/model/proxy_features.h"
#include "harness/run/counter_watch.h"
#include "harness/run/needs.h"
#include "harness/topology/topology.h"
#include "harness/traffic/echo_server.h"
#include "harness/traffic/out_of_window.h"
#include "harness/traffic/prober.h"
#include "harness/verdict/sweep_check.h"
#include "netns/netfilter.h"
#include "netns/pins.h"

namespace harness {

using Clock = std::chrono::steady_clock;

namespace {

std::chrono::microseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t);
}

// kpath's own chain for IPv6 under inputPolicy: DROP (see set_policy_drop).
constexpr const char* kNeighbourDiscovery = "KPATH-NEIGHBOUR-DISCOVERY";

// ip6tables-restore input (--noflush) for filter INPUT policy DROP with the
// neighbour solicitations and advertisements accepted first. Declaring the
// chain empties it; `replace_jump` deletes INPUT's jump to it before
// inserting one, which fails the restore when there is none.
std::string input_drop_with_neighbour_discovery(bool replace_jump) {
  std::string text = fmt::format("*filter\n:INPUT DROP [0:0]\n:{0} - [0:0]\n", kNeighbourDiscovery);
  for (const char* type : {"neighbour-solicitation", "neighbour-advertisement"})
    text += fmt::format("-A {} -p ipv6-icmp -m icmp6 --icmpv6-type {} -j ACCEPT\n", kNeighbourDiscovery, type);
  if (replace_jump) text += fmt::format("-D INPUT -j {}\n", kNeighbourDiscovery);
  text += fmt::format("-I INPUT 1 -j {}\nCOMMIT\n", kNeighbourDiscovery);
  return text;
}

ProbeSpec probe_spec(const Expectation& e, const Flow& flow, Verdict want, const RunOptions& options) {
  ProbeSpec spec;
  spec.target = flow.target;
  spec.port = flow.port;
  spec.protocol = flow.protocol;
  spec.count = e.probes;
  spec.concurrency = options.concurrency;
  // A drop shows only as silence; waiting longer than a SYN retransmit adds nothing.
  spec.timeout = probe_timeout(want);
  if (flow.from_localhost) spec.source = Ip::from("127.0.0.1");
  if (flow.from_address) spec.source = *flow.from_address;
  spec.source_port = e.source_port;
  spec.sources = flow.sources;
  spec.local_ports = e.random_source_ports;
  // Session affinity: one probing thread, so a client's first connection is
  // NATed and remembered (xt_recent, the nft affinity set) before its next one
  // is. Two threads send on two CPUs at once, both miss the empty entry, and
  // the client gets two random picks ("reached web-a (99x), web-b (1x)").
  if (flow.affinity) spec.threads = 1;
  if (e.http_status != 0)
    spec.http_request =
        fmt::format("GET /healthz HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: kpath\r\nConnection: close\r\n\r\n",
                    flow.target.str(), flow.port);
  spec.stop = options.stop;
  return spec;
}

// The ports the sink answers on: every port a probe or a Service may send
// un-NATed traffic to.
std::set<std::pair<uint16_t, Protocol>> sink_ports(const Case& c) {
  std::set<std::pair<uint16_t, Protocol>> ports;
  for (const auto& e : c.expect) {
    if (!e.sweep) ports.insert({e.to.port, e.protocol});
    // A Service's own ports are below; a sweep adds the ports its Services do not define.
    if (e.sweep && std::count(e.sweep->doors.begin(), e.sweep->doors.end(), FrontDoor::ClusterIPUndefinedPort))
      for (const auto& d : sweep_doors(c.cluster, *e.sweep)) ports.insert({d.dport, d.port->protocol});
  }
  for (const auto& svc : c.cluster.services)
    for (const auto& sp : svc.ports) {
      ports.insert({sp.port, sp.protocol});
      if (sp.node_port) ports.insert({sp.node_port, sp.protocol});
    }
  std::erase_if(ports, [](const auto& p) { return p.second == Protocol::SCTP; });  // SCTP may lack its module
  return ports;
}

// What kube-proxy's health server reports for a Service on a node: its ready
// endpoints on that node.
int local_ready_endpoints(const Cluster& c, const Service& svc, const std::string& node) {
  std::set<Ip> addresses;
  // The primary family's proxier serves the health check: a dual-stack pod counts once.
  const int family = svc.cluster_ip ? svc.cluster_ip->family() : 0;
  for (const EndpointSlice* slice : c.slices_for(svc))
    if (family == 0 || slice->family == 0 || slice->family == family)
      for (const auto& ep : slice->endpoints)
        if (ep.ready && ep.node_name == node && !ep.addresses.empty()) addresses.insert(ep.addresses.front());
  return static_cast<int>(addresses.size());
}

// What conntrack on each node holds for a flow's target: whether the flow was
// tracked at all, and where it was sent.
std::string conntrack_view(const Topology& topo, const Cluster& c, const Flow& flow) {
  std::string out;
  int proto = flow.protocol == Protocol::UDP ? IPPROTO_UDP : IPPROTO_TCP;
  for (const auto& node : c.nodes) {
    std::map<std::string, int> replies;
    int n = 0;
    for (const auto& e : netns::conntrack_dump(topo.ns(node.name))) {
      if (e.protocol != proto || e.orig_dst != flow.target || e.orig_dport != flow.port) continue;
      ++n;
      ++replies[fmt::format("{}:{}", e.reply_src.str(), e.reply_sport)];
    }
    if (n == 0) continue;
    std::string to;
    for (const auto& [where, k] : replies) to += fmt::format("{}{} ({}x)", to.empty() ? "" : ", ", where, k);
    out += fmt::format("    conntrack on {}: {} entries for {}:{}, replies expected from {}\n", node.name, n,
                       flow.target.str(), flow.port, to);
  }
  return out.empty() ? fmt::format("    conntrack on no node holds an entry for {}:{}\n", flow.target.str(), flow.port)
                     : out;
}

}  // namespace

std::vector<GeneratorSpec> generators_for(const Case& c, const RunOptions& options) {
  if (c.generator) return {*c.generator};
  if (!options.generators.empty()) return options.generators;
  if (!c.generators.empty()) return c.generators;
  return builtin_generators();
}

namespace {

// One case against one generator, from the first rule to the last probe.
class CaseRunner {
 public:
  CaseRunner(const Case& c, const Generator& generator, const RunOptions& options, CaseRun& run)
      : case_(c), options_(options), run_(run), cluster_(c.cluster), generator_(generator) {}

  // The run, and on the way out (error or not) a running proxy's logs kept
  // and, for an error, their tails in its message; the proxies stop before
  // the topology goes.
  void run() {
    try {
      run_steps();
    } catch (const kpath::Error& e) {
      if (!live_) throw;
      std::string tails = live_->log_tails();
      finish_live();
      throw kpath::Error(std::string(e.what()) + "\n" + tails);
    }
    finish_live();
  }

 private:
  void run_steps() {
    // Generate for every node first: a broken generator or dump costs no topology.
    auto rules = generate_all();
    if (stopped()) return;
    auto t = Clock::now();
    topo_.emplace(Topology::build(cluster_));
    run_.build = since(t);
    if (stopped()) return;
    if (options_.keep) run_.pinned = topo_->pin(fmt::format("kpath-{}-", options_.run_id), options_.pins);

    counters_.emplace(*topo_, cluster_, options_.install, options_.coverage);
    counters_->before_first_install();
    t = Clock::now();
    install_all(std::move(rules), /*first=*/true);
    start_live();
    run_.install = since(t);
    if (stopped()) return;
    // A running proxy has programmed its rules and talked to kpath's API
    // server through them by now: its counters are read, not assumed zero.
    if (live_) counters_->rebase();
    else counters_->fresh();

    auto servers = std::make_shared<EchoServers>();
    for (const auto& pod : cluster_.pods)
      for (const auto& port : pod.listen) {
        // A pod with an IPv6 address answers on it too.
        const bool v6 = std::any_of(pod.ips.begin(), pod.ips.end(), [](const Ip& ip) { return ip.is_v6(); });
        servers->listen(topo_->ns(pod.name), pod.name, port.port, port.protocol, v6);
      }
    // The sink answers IPv6 as well where the cluster has any (it owns every address of both families).
    const auto families = cluster_.families();
    const bool sink_v6 = std::find(families.begin(), families.end(), AF_INET6) != families.end();
    for (const auto& [port, protocol] : sink_ports(case_))
      servers->listen(topo_->sink(), kSinkBackend, port, protocol, sink_v6);
    if (!live_ && !generator_.serves_health_checks()) stand_in_for_health_checks(*servers);
    servers->start();

    t = Clock::now();
    for (const auto& e : case_.expect) {
      if (stopped()) break;
      if (!selected(e)) {
        skip_over(e);
        continue;
      }
      ExpectationRun er = probe(e);
      if (stopped()) break;  // cut short: its verdict would be about the probes that made it
      run_.expectations.push_back(std::move(er));
      if (run_.expectations.back().check.status != Status::Fail) continue;
      run_.status = Status::Fail;
      if (options_.fail_fast) break;
    }
    run_.traffic = since(t);
    // --keep on a terminal: the pods go on answering in their pins until
    // kpath's user lets the run's result go (see RunOptions::keep_serving).
    if (options_.keep && options_.keep_serving) run_.serving = std::move(servers);
    else servers->stop();
    if (options_.coverage) run_.coverage = counters_->coverage();
    run_.diagnosis = counters_->trouble();
  }

  // kube-proxy answers a Service's health-check node port on every node; for
  // a rule writer kpath stands in for it, from the endpoints in force.
  void stand_in_for_health_checks(EchoServers& servers) {
    for (const auto& svc : cluster_.services) {
      if (svc.health_check_node_port == 0) continue;
      for (const auto& node : cluster_.nodes) {
        auto count = std::make_shared<std::atomic<int>>(local_ready_endpoints(cluster_, svc, node.name));
        health_counts_.push_back({&svc, node.name, count});
        const bool v6 = std::any_of(node.ips.begin(), node.ips.end(), [](const Ip& ip) { return ip.is_v6(); });
        servers.listen_health(topo_->ns(node.name), svc.health_check_node_port, HealthCheck{svc.ns, svc.name, count},
                              v6);
      }
    }
  }

  void update_health_counts() {
    for (auto& h : health_counts_) h.count->store(local_ready_endpoints(cluster_, *h.service, h.node));
  }

  bool stopped() const { return options_.stop && options_.stop->load(); }

  // A generator that runs programs (proxy:) starts them once kpath's own
  // preparations are on the nodes, then must converge.
  void start_live() {
    StartOptions start{options_.install, options_.converge_timeout, options_.scratch_root};
    live_ = generator_.start(
        cluster_, [this](const std::string& name) -> const netns::Namespace& { return topo_->ns(name); }, start);
    if (!live_) return;
    Convergence c = live_->converge();
    run_.convergence.push_back({"start", c.elapsed, c.how});
  }

  void finish_live() {
    if (!live_) return;
    if (!options_.artifacts_dir.empty()) {
      try {
        run_.artifacts = live_->keep_logs(artifact_dir());
      } catch (const std::exception& e) {
        run_.diagnosis += fmt::format("the proxy logs could not be kept: {}\n", e.what());
      }
    }
    live_.reset();
  }

  // DIR/<case>/<generator>, the generator's name made a file name.
  std::string artifact_dir() const {
    std::string g;
    for (char c : generator_.name().substr(0, 60))
      g += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
    return options_.artifacts_dir + "/" + case_.name + "/" + g;
  }

  std::vector<RuleSet> generate_all() {
    std::vector<RuleSet> rules;
    for (const auto& node : cluster_.nodes) rules.push_back(generator_.generate(cluster_, node.name));
    return rules;
  }

  // Puts every node's rules in place: the whole set first, then at each
  // endpoint change what a proxy's sync puts there. A node whose FORWARD or
  // INPUT policy another component set to DROP has it before the first
  // install and gets it again after each one.
  void install_all(std::vector<RuleSet> rules, bool first) {
    ApplyOptions apply{options_.install, first, options_.coverage};
    apply.install.stop = options_.stop;
    if (generator_.wants_scratch()) {
      if (!scratch_) scratch_.emplace(options_.scratch_root, netns::owned_name(kExecScratch));
      apply.scratch = scratch_->path().string();
      apply.namespaces = [this](const std::string& name) -> const netns::Namespace& { return topo_->ns(name); };
    }
    for (size_t i = 0; i < cluster_.nodes.size(); ++i) {
      const Node& node = cluster_.nodes[i];
      // The node's firewall was there before the proxy: its base chains are
      // registered first, so a proxy's nft chain of the same priority on the
      // same hook runs before them, as on a real node (the kernel puts a new
      // hook ahead of older ones of equal priority).
      if (first) set_policies(node);
      Applied applied = generator_.apply(cluster_, node.name, topo_->ns(node.name), std::move(rules[i]), apply);
      set_policies(node);
      if (first) note_additions(node, applied);
    }
  }

  void set_policies(const Node& node) {
    if (node.forward_policy_drop) set_policy_drop(topo_->ns(node.name), "FORWARD", "forwardPolicy: DROP");
    if (node.input_policy_drop) set_policy_drop(topo_->ns(node.name), "INPUT", "inputPolicy: DROP");
  }

  // What kpath put on a node that the generator did not write.
  void note_additions(const Node& node, const Applied& applied) {
    for (const auto& a : applied.additions) run_.additions.push_back(node.name + ": " + a);
    if (node.forward_policy_drop)
      run_.additions.push_back(node.name +
                               ": filter FORWARD policy DROP before the first install and after every install "
                               "(forwardPolicy: DROP)");
    if (node.input_policy_drop)
      run_.additions.push_back(node.name +
                               ": filter INPUT policy DROP before the first install and after every install "
                               "(inputPolicy: DROP)" +
                               (has_ipv6() ? fmt::format("; for IPv6, INPUT first jumps to {}, which accepts "
                                                         "neighbour solicitations and advertisements",
                                                         kNeighbourDiscovery)
                                           : ""));
  }

  // Applies endpoint changes to the model, re-applies every node's rules and,
  // like kube-proxy, deletes the UDP conntrack entries of endpoints that
  // stopped serving (without that a UDP client keeps reaching them).
  // A running proxy gets the new model as watch events and is waited for;
  // the conntrack entries are then its own job.
  void change_endpoints(const std::vector<EndpointChange>& changes, const std::string& when = {}) {
    auto serving_before = udp_endpoint_ips();
    std::string these;
    for (const auto& change : changes) {
      apply_endpoint_change(cluster_, change);
      these += fmt::format("{}{} {}", these.empty() ? "" : ", ", change.pod, to_string(change.state));
    }
    in_force_ += (in_force_.empty() ? "" : ", ") + these;
    if (live_) {
      Convergence c = live_->changed(cluster_);
      run_.convergence.push_back({when.empty() ? these : when + ": " + these, c.elapsed, c.how});
      counters_->rebase();
      return;
    }
    install_all(generate_all(), /*first=*/false);
    update_health_counts();
    counters_->rebase();
    if (!options_.conntrack_cleanup || !generator_.needs_conntrack_cleanup()) return;
    auto serving_after = udp_endpoint_ips();
    for (const auto& ip : serving_before) {
      if (serving_after.count(ip)) continue;
      for (const auto& node : cluster_.nodes)
        netns::conntrack_delete_if(topo_->ns(node.name), [&](const netns::ConntrackEntry& e) {
          return e.protocol == IPPROTO_UDP && e.reply_src == ip;
        });
    }
  }

  std::set<Ip> udp_endpoint_ips() const {
    std::set<Ip> out;
    for (const auto& svc : cluster_.services)
      for (const auto& sp : svc.ports)
        if (sp.protocol == Protocol::UDP)
          for (const EndpointSlice* slice : cluster_.slices_for(svc))
            for (const auto& ep : slice->endpoints)
              if (ep.ready || (ep.serving && ep.terminating)) out.insert(ep.addresses.begin(), ep.addresses.end());
    return out;
  }

  bool selected(const Expectation& e) const {
    const auto& s = options_.selected;
    return s.empty() || std::find(s.begin(), s.end(), &e) != s.end();
  }

  // An expectation left out by --focus/--skip: its endpoint changes still
  // happen, so the ones after it see the cluster they were written for.
  void skip_over(const Expectation& e) {
    if (!e.before.empty()) change_endpoints(e.before, "before '" + e.name + "'");
    if (!e.during.empty()) change_endpoints(e.during, "during '" + e.name + "'");
  }

  // Every front door of the sweep in one batch of probes, judged door by door.
  ExpectationRun probe_sweep(const Expectation& e) {
    ExpectationRun er;
    er.expectation = &e;
    auto t = Clock::now();
    counters_->ready();
    if (!e.before.empty()) change_endpoints(e.before);
    const auto doors = sweep_doors(cluster_, *e.sweep);
    const auto flows = sweep_flows(cluster_, e, doors);
    if (doors.empty()) throw kpath::Error("sweep '" + e.name + "' has no front door");  // the loader refuses those
    Verdict want = expected_verdict(e, generator_.name(), generator_.mode());
    ProbeSpec spec;
    spec.count = static_cast<int>(doors.size()) * e.probes;
    spec.concurrency = options_.concurrency;
    spec.timeout = probe_timeout(want);
    for (const auto& d : doors) spec.targets.push_back({d.address, d.dport, d.port->protocol});
    if (options_.expectation_timeout.count() > 0) spec.deadline = t + options_.expectation_timeout;
    auto results = run_probes(topo_->ns(flows.front().from_ns), spec);
    er.probes = static_cast<int>(results.size());
    run_.probes += results.size();
    if (options_.probes_sent) *options_.probes_sent += results.size();
    SweepCheck swept = check_sweep(cluster_, e, doors, flows, want, results);
    er.check = std::move(swept.check);
    er.flow = flows[swept.first_failure.value_or(0)];
    if (static_cast<int>(results.size()) < spec.count) timed_out(er.check, results.size(), spec.count);
    count_moves(er);
    er.changes_in_force = in_force_;
    if (er.check.status == Status::Fail) er.diagnosis = where_probes_went(er);
    er.elapsed = since(t);
    return er;
  }

  ExpectationRun probe(const Expectation& e) {
    if (e.sweep) return probe_sweep(e);
    ExpectationRun er;
    er.expectation = &e;
    auto t = Clock::now();
    counters_->ready();
    if (!e.before.empty()) change_endpoints(e.before, "before '" + e.name + "'");
    er.flow = resolve_flow(cluster_, e);
    if (!er.flow.loopback_via.empty()) topo_->route_loopback_through(cluster_, er.flow.from_ns, er.flow.loopback_via);
    Verdict want = expected_verdict(e, generator_.name(), generator_.mode());
    ProbeSpec spec = probe_spec(e, er.flow, want, options_);
    if (options_.expectation_timeout.count() > 0) spec.deadline = t + options_.expectation_timeout;
    std::vector<ProbeResult> results;
    if (e.probe == ProbeKind::OutOfWindow) {
      auto backend_ns = [&](const std::string& name) -> const netns::Namespace& { return topo_->ns(name); };
      for (int i = 0; i < spec.count && Clock::now() < spec.deadline && !stopped(); ++i)
        results.push_back(probe_out_of_window(topo_->ns(er.flow.from_ns), spec, backend_ns));
    } else if (e.affinity_expires) {
      results = probe_affinity_pairs(e, er.flow, spec);
    } else if (e.during.empty()) {
      results = run_probes(topo_->ns(er.flow.from_ns), spec);
    } else {
      // Change the endpoints a third of the way into the probes.
      std::atomic<int> done{0};
      spec.progress = &done;
      auto future = std::async(std::launch::async, [&] { return run_probes(topo_->ns(er.flow.from_ns), spec); });
      while (done.load() < spec.count / 3 &&
             future.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready) {
      }
      er.counters = counters_->moved(/*name_now=*/true);  // before the re-apply replaces these rules
      change_endpoints(e.during, "during '" + e.name + "'");
      results = future.get();
    }
    er.probes = static_cast<int>(results.size());
    run_.probes += results.size();
    if (options_.probes_sent) *options_.probes_sent += results.size();
    er.check = check_probes(cluster_, e, er.flow, want, results);
    const int planned = e.affinity_expires ? 2 * spec.count : spec.count;
    if (static_cast<int>(results.size()) < planned) timed_out(er.check, results.size(), planned);
    count_moves(er);
    er.changes_in_force = in_force_;
    if (er.check.status == Status::Fail) er.diagnosis = where_probes_went(er) + (live_ ? live_->log_tails() : "");
    if (e.probe == ProbeKind::OutOfWindow)
      for (const auto& r : results)
        if (r.outcome == Outcome::Reply) {
          er.check.detail += fmt::format(
              "    the client received {}'s out-of-window segment from {}:{}, not NATed back (conntrack INVALID, "
              "not dropped)\n",
              r.reply.backend, r.reply.peer.str(), r.reply.peer_port);
          break;
        }
    er.elapsed = since(t);
    return er;
  }

  // The rules the probes moved, read where something uses them: a failure's
  // diagnosis and --coverage. A pass without --coverage keeps none and skips the read.
  void count_moves(ExpectationRun& er) {
    if (er.check.status != Status::Fail && !options_.coverage) {
      er.counters.clear();
      counters_->skip();
      return;
    }
    for (auto& c : counters_->moved()) er.counters.push_back(std::move(c));
  }

  // Probes stop early only at the deadline: the verdict of the ones that
  // finished does not count.
  void timed_out(CheckResult& check, size_t done, int planned) {
    check.status = Status::Fail;
    check.summary = fmt::format("timed out after {:g} s ({}/{} probes done); {}",
                                static_cast<double>(options_.expectation_timeout.count()) / 1000, done, planned,
                                check.summary);
  }

  // The rules the probes moved on each node and what conntrack holds for them.
  std::string where_probes_went(ExpectationRun& er) {
    counters_->name(er.counters);
    std::string out = "    rules whose counters these probes moved:\n" + describe_moves(er.counters);
    try {
      out += conntrack_view(*topo_, cluster_, er.flow);
    } catch (const kpath::Error& e) {
      out += fmt::format("    conntrack could not be read: {}\n", e.what());
    }
    return out;
  }

  bool has_ipv6() const {
    const auto families = cluster_.families();
    return std::find(families.begin(), families.end(), AF_INET6) != families.end();
  }

  // Both families' filter chain where the cluster has IPv6 (a node's policy is per family).
  // IPv6's INPUT also accepts neighbour discovery first (kNeighbourDiscovery):
  // without it the node neither answers a solicitation nor takes in an
  // advertisement, and no IPv6 packet reaches it (ARP does not pass iptables).
  // The jump is deleted and inserted again so each install leaves one; when
  // there is none to delete (the first install, or a restore that flushed the
  // filter table) the restore fails as a whole and goes in without the delete.
  void set_policy_drop(const netns::Namespace& ns, const std::string& chain, const std::string& origin) {
    const std::string policy = "*filter\n:" + chain + " DROP [0:0]\nCOMMIT\n";
    RuleSet rules{RuleBackend::IptablesRestore, policy, origin, {}};
    const bool ipv6 = has_ipv6();
    if (!ipv6 || chain != "INPUT") {
      if (ipv6) rules.text6 = policy;
      install_rules(ns, rules, options_.install, /*noflush=*/true);
      return;
    }
    rules.text6 = input_drop_with_neighbour_discovery(/*replace_jump=*/true);
    try {
      install_rules(ns, rules, options_.install, /*noflush=*/true);
    } catch (const kpath::Error&) {
      rules.text6 = input_drop_with_neighbour_discovery(/*replace_jump=*/false);
      install_rules(ns, rules, options_.install, /*noflush=*/true);
    }
  }

  // affinity: expires: pairs of single probes, paced by the Service's timeout
  // (model.h), in order: first, second, first, second, ...
  std::vector<ProbeResult> probe_affinity_pairs(const Expectation& e, const Flow& flow, ProbeSpec spec) {
    std::vector<ProbeResult> results;
    const int pairs = spec.count;
    spec.count = 1;
    for (int i = 0; i < pairs && Clock::now() < spec.deadline; ++i) {
      if (i > 0) std::this_thread::sleep_for(affinity_pause(e));
      for (auto& r : run_probes(topo_->ns(flow.from_ns), spec)) results.push_back(std::move(r));
      std::this_thread::sleep_for(affinity_hold(e));
      for (auto& r : run_probes(topo_->ns(flow.from_ns), spec)) results.push_back(std::move(r));
    }
    return results;
  }

  const Case& case_;
  const RunOptions& options_;
  CaseRun& run_;
  Cluster cluster_;  // the case's cluster as endpoint changes leave it
  const Generator& generator_;
  std::optional<Topology> topo_;
  std::optional<CounterWatch> counters_;
  std::unique_ptr<LiveGenerator> live_;       // after topo_: destroyed first, while the namespaces exist
  std::optional<kpath::ScratchDir> scratch_;  // a program generator's, for the whole run
  std::string in_force_;                      // the endpoint changes applied so far
  struct HealthCount {
    const Service* service;
    std::string node;
    std::shared_ptr<std::atomic<int>> count;
  };
  std::vector<HealthCount> health_counts_;  // what the health-check stand-in reports
};

}  // namespace

void apply_endpoint_change(Cluster& cluster, const EndpointChange& change) {
  const Pod* pod = cluster.pod(change.pod);
  for (auto& slice : cluster.slices) {
    auto& eps = slice.endpoints;
    for (auto it = eps.begin(); it != eps.end();) {
      bool match = it->pod_name == change.pod ||
                   (pod && !it->addresses.empty() &&
                    std::find(pod->ips.begin(), pod->ips.end(), it->addresses.front()) != pod->ips.end());
      if (!match) {
        ++it;
        continue;
      }
      switch (change.state) {
        case EndpointState::Deleted: it = eps.erase(it); continue;
        case EndpointState::Ready:
          it->ready = it->serving = true;
          it->terminating = false;
          break;
        case EndpointState::NotReady: it->ready = it->serving = it->terminating = false; break;
        case EndpointState::Terminating:
          it->ready = false;
          it->serving = true;
          it->terminating = true;
          break;
      }
      ++it;
    }
  }
}

CaseRun new_run(const Case& c, const std::string& generator, ProxyMode mode) {
  CaseRun run;
  run.case_name = c.name;
  run.behaviour = c.behaviour;
  run.families = c.cluster.families();
  run.file = c.file;
  run.generator = generator;
  run.mode = mode;
  for (const auto& e : c.expect) run.planned.push_back(&e);
  return run;
}

CaseRun run_case(const Case& c, const Generator& generator, const RunOptions& options) {
  CaseRun run = new_run(c, generator.name(), generator.mode());
  if (!options.selected.empty()) run.planned = options.selected;
  if (options.features)
    if (auto why = skip_reason(*options.features, generator.needs(c.cluster))) {
      run.status = Status::Skip;
      run.error = *why;
      return run;
    }
  auto start = Clock::now();
  try {
    CaseRunner(c, generator, options, run).run();
  } catch (const kpath::Error& err) {
    run.status = Status::Error;
    run.error = err.what();
  } catch (const std::exception& err) {
    run.status = Status::Error;
    run.error = fmt::format("internal error: {}", err.what());
  }
  // A stop (SIGINT/SIGTERM) kills generators and installers mid-way: what
  // that broke is the interruption, not an error of the run.
  // A run stopped before any expectation ran reads as one that never started.
  if (options.stop && options.stop->load() && (run.status == Status::Error || run.expectations.empty())) {
    run.status = run.expectations.empty() ? Status::Skip : Status::Pass;
    for (const auto& e : run.expectations)
      if (e.check.status == Status::Fail) run.status = Status::Fail;
    run.error = run.expectations.empty() ? "interrupted" : "";
  }
  run.total = since(start);
  return run;
}

CaseRun run_case(const Case& c, const GeneratorSpec& spec, const RunOptions& options) {
  // A proxy older than a feature the case requires cannot pass it: a skip, with the reason.
  if (auto why = missing_proxy_feature(c.required_features, spec.version)) {
    CaseRun run = new_run(c, spec.name(), spec.mode);
    if (!options.selected.empty()) run.planned = options.selected;
    run.status = Status::Skip;
    run.error = *why;
    return run;
  }
  return run_case(c, *make_generator(spec), options);
}

}  // namespace harness
