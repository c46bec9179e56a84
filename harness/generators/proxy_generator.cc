#include "harness/generators/proxy_generator.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "base/errno.h"
#include "base/error.h"
#include "base/scratch_dir.h"
#include "harness/apiserver/apiserver.h"
#include "harness/generators/model_json.h"
#include "netns/pins.h"
#include "netns/process.h"

namespace harness {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// How kpath watches a node's rules settle: polled this often, "stable" once
// unchanged this long. kube-proxy restores its tables one at a time, within
// milliseconds of each other, so the window only has to outlast one sync.
constexpr auto kPoll = std::chrono::milliseconds(20);
constexpr auto kStable = std::chrono::milliseconds(300);
// A change that moves no rule (the proxy had nothing to rewrite) is accepted
// after this long. It must outlast kube-proxy's --iptables-min-sync-period
// (1 s), which may hold a sync back after the previous one.
constexpr auto kQuiet = std::chrono::seconds(3);

std::chrono::microseconds micros(Clock::duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d); }

void write_text(const fs::path& path, const std::string& text,
                fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw kpath::Error("cannot write " + path.string());
  fs::permissions(path, perms);
}

// Whether the proxy's own tables hold rules yet: kube-proxy creates its
// chains before its first full sync, and an empty KUBE-SERVICES (iptables) or
// services chain (nftables) means that sync has not happened.
bool proxy_tables_filled(const std::string& text, ProxyMode mode) {
  if (mode == ProxyMode::None) return true;
  const std::string chain = mode == ProxyMode::Iptables ? "KUBE-SERVICES" : "services";
  if (text.find("-A " + chain + " ") != std::string::npos) return true;  // iptables-legacy-save
  std::regex filled("chain " + chain + " \\{\\n(\\s*type [^\\n]*\\n)?\\s*[^}\\s]");
  return std::regex_search(text, filled);
}

// A stub for modprobe first in the proxy's PATH: loading a kernel module is
// host-global, and kube-proxy 1.20 asks for the IPVS modules in every mode.
constexpr const char* kModprobeStub =
    "#!/bin/sh\necho \"kpath: modprobe $* refused (kernel modules are host-global)\" >&2\nexit 1\n";

// KPATH_KUBE_PROXY_FLAGS: the case's `proxy:` section as kube-proxy flags
// (those kube-proxy 1.20 has), for a command line to pass on unquoted.
std::string kube_proxy_flags(const ProxyOptions& p) {
  std::string out;
  auto add = [&](const std::string& flag) { out += (out.empty() ? "" : " ") + flag; };
  if (p.cluster_cidr) add("--cluster-cidr=" + p.cluster_cidr->str());
  if (p.masquerade_all) add("--masquerade-all");
  std::string cidrs;
  for (const auto& c : p.node_port_addresses) cidrs += (cidrs.empty() ? "" : ",") + c.str();
  if (!cidrs.empty()) add("--nodeport-addresses=" + cidrs);
  add("--iptables-masquerade-bit=" + std::to_string(p.masquerade_bit));
  return out;
}

struct NodeProxy {
  std::string name;
  const netns::Namespace* ns = nullptr;
  fs::path log;
  std::string rules;  // the last ruleset text seen
  Clock::time_point changed_at;
  netns::Daemon daemon;  // last: started once the rest is known
};

class ProxyRun : public LiveGenerator {
 public:
  ProxyRun(const std::string& command, const std::string& base, ProxyMode mode, const Cluster& cluster,
           const NamespaceOf& ns_of, const StartOptions& options)
      : command_(command),
        mode_(mode),
        options_(options),
        scratch_(options.scratch_root, netns::owned_name(kProxyScratch)),
        server_(cluster) {
    held_ = held_namespaces(cluster, ns_of);
    fs::create_directories(scratch_.path() / "bin");
    write_text(scratch_.path() / "bin" / "modprobe", kModprobeStub, fs::perms::owner_all);
    for (const auto& node : cluster.nodes) start_node(node.name, ns_of(node.name), cluster, base);
  }

  ~ProxyRun() override {
    for (auto& n : nodes_) n.daemon.stop();
  }

  Convergence converge() override { return wait(Clock::now(), /*unchanged_ok=*/false); }

  Convergence changed(const Cluster& cluster) override {
    for (auto& n : nodes_) n.rules = node_ruleset_text(*n.ns, options_.install.iptables);
    auto t = Clock::now();
    server_.update(cluster);
    return wait(t, /*unchanged_ok=*/true);
  }

  std::string log_tails() const override {
    std::string out;
    for (const auto& n : nodes_) {
      std::string tail = n.daemon.log_tail(2048);
      out += fmt::format("    proxy log of {} ({}), last {} bytes:\n", n.name, n.log.filename().string(), tail.size());
      for (size_t at = 0; at < tail.size();) {
        size_t end = tail.find('\n', at);
        if (end == std::string::npos) end = tail.size();
        out += "      | " + tail.substr(at, end - at) + "\n";
        at = end + 1;
      }
    }
    return out;
  }

  std::vector<std::string> keep_logs(const std::string& dir) const override {
    fs::create_directories(dir);
    std::vector<std::string> out;
    for (const auto& n : nodes_) {
      fs::path to = fs::path(dir) / n.log.filename();
      std::error_code ec;
      fs::copy_file(n.log, to, fs::copy_options::overwrite_existing, ec);
      if (!ec) out.push_back(to.string());
    }
    return out;
  }

 private:
  void start_node(const std::string& name, const netns::Namespace& ns, const Cluster& cluster,
                  const std::string& base) {
    fs::path log = scratch_.path() / (name + ".log");
    std::string rules = node_ruleset_text(ns, options_.install.iptables);
    std::string url = server_.listen(ns);
    fs::path kubeconfig = scratch_.path() / (name + ".kubeconfig");
    write_text(kubeconfig, apiserver::ApiServer::kubeconfig(url));
    fs::path model = scratch_.path() / (name + ".model.json");
    write_text(model,
               model_json(cluster, name,
                          RunContext{to_string(options_.install.iptables), scratch_.path().string(), held_.paths})
                   .dump(2));
    const char* path = std::getenv("PATH");
    netns::DaemonOptions options;
    options.env = {"KPATH_API=" + url,
                   "KPATH_NODE=" + name,
                   "KUBECONFIG=" + kubeconfig.string(),
                   "KPATH_SCRATCH=" + scratch_.path().string(),
                   "KPATH_MODEL=" + model.string(),
                   "KPATH_IPTABLES=" + to_string(options_.install.iptables),
                   "KPATH_CLUSTER_CIDR=" + (cluster.proxy.cluster_cidr ? cluster.proxy.cluster_cidr->str() : ""),
                   "KPATH_KUBE_PROXY_FLAGS=" + kube_proxy_flags(cluster.proxy),
                   "PATH=" + (scratch_.path() / "bin").string() + ":" +
                       (path ? path : "/usr/sbin:/usr/bin:/sbin:/bin")};
    options.log_path = log.string();
    options.held = held_.fds;
    options.workdir = base.empty() ? fs::current_path().string() : base;
    nodes_.push_back(NodeProxy{name, &ns, log, std::move(rules), Clock::now(),
                               netns::Daemon::start(ns, {"sh", "-c", command_}, std::move(options))});
  }

  // Polls every node's rules until each has changed from what it had at `t`
  // (or, when unchanged_ok, has not changed for kQuiet) and then held still
  // for kStable. The time is from `t` to the last change seen on the slowest node.
  Convergence wait(Clock::time_point t, bool unchanged_ok) {
    std::vector<std::string> before;
    for (auto& n : nodes_) {
      before.push_back(n.rules);
      n.changed_at = t;
    }
    std::vector<bool> done(nodes_.size(), false);
    Convergence result{std::chrono::microseconds(0), "rules stable"};
    bool any_changed = false;
    for (;;) {
      auto now = Clock::now();
      bool all = true;
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (done[i]) continue;
        NodeProxy& n = nodes_[i];
        if (!n.daemon.running())
          throw kpath::Error(fmt::format("proxy '{}' on {} exited before its rules converged", command_, n.name));
        std::string text = node_ruleset_text(*n.ns, options_.install.iptables);
        if (text != n.rules) {
          n.rules = std::move(text);
          n.changed_at = now;
          all = false;
          continue;
        }
        bool moved = n.rules != before[i];
        if (moved && now - n.changed_at >= kStable && proxy_tables_filled(n.rules, mode_)) {
          done[i] = true;
          any_changed = true;
          result.elapsed = std::max(result.elapsed, micros(n.changed_at - t));
        } else if (!moved && unchanged_ok && now - t >= kQuiet) {
          done[i] = true;
        } else {
          all = false;
        }
      }
      if (all) break;
      if (now - t > options_.converge_timeout) throw not_converged(t, before);
      std::this_thread::sleep_for(kPoll);
    }
    if (!any_changed) result.how = fmt::format("rules unchanged for {} s", std::chrono::seconds(kQuiet).count());
    return result;
  }

  kpath::Error not_converged(Clock::time_point t, const std::vector<std::string>& before) const {
    std::string which;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const NodeProxy& n = nodes_[i];
      std::string state = n.rules == before[i]                   ? "its rules never changed"
                          : !proxy_tables_filled(n.rules, mode_) ? "its " + to_string(mode_) + " tables stayed empty"
                                                                 : "its rules kept changing";
      which += fmt::format("{}{}: {}", which.empty() ? "" : "; ", n.name, state);
    }
    return kpath::Error(fmt::format("proxy '{}' did not converge within {:.1f} s ({})", command_,
                                    std::chrono::duration<double>(Clock::now() - t).count(), which));
  }

  std::string command_;
  ProxyMode mode_;
  StartOptions options_;
  kpath::ScratchDir scratch_;
  HeldNamespaces held_;  // the case's namespaces, held in each proxy's sandbox
  apiserver::ApiServer server_;
  std::vector<NodeProxy> nodes_;  // last: the proxies stop before the server and the scratch dir go
};

}  // namespace

int kubelet_drop_bit(int masquerade_bit) { return masquerade_bit == 15 ? 16 : 15; }

std::string kubelet_chains(int drop_bit) {
  const std::string mark = fmt::format("{:#x}/{:#x}", 1u << drop_bit, 1u << drop_bit);
  return "*nat\n"
         ":KUBE-MARK-DROP - [0:0]\n"
         "-A KUBE-MARK-DROP -j MARK --set-xmark " +
         mark +
         "\n"
         "COMMIT\n"
         "*filter\n"
         ":KUBE-FIREWALL - [0:0]\n"
         "-A KUBE-FIREWALL -m comment --comment \"kubernetes firewall for dropping marked packets\" "
         "-m mark --mark " +
         mark +
         " -j DROP\n"
         "-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming localnet "
         "connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n"
         "-I INPUT -j KUBE-FIREWALL\n"
         "-I OUTPUT -j KUBE-FIREWALL\n"
         "COMMIT\n";
}

std::string node_ruleset_text(const netns::Namespace& node_ns, IptablesVariant variant) {
  auto read = [&](const std::vector<std::string>& argv) {
    auto r = netns::run_process(node_ns, argv, {}, std::chrono::seconds(10));
    if (r.exit_code != 0) throw kpath::Error(fmt::format("'{}' failed on a node: {}", argv[0], r.err));
    return r.out;
  };
  std::string text = read({"nft", "-s", "list", "ruleset"});
  if (variant == IptablesVariant::Legacy) {
    // Chain lines carry packet counters ("[12:720]") even without -c.
    static const std::regex counters(R"(\[\d+:\d+\])");
    text += std::regex_replace(read({"iptables-legacy-save"}), counters, "");
  }
  // "# Generated by ... on DATE" and "# Completed on DATE" differ on every read.
  static const std::regex dated(R"(# (Generated by|Completed on)[^\n]*\n)");
  return std::regex_replace(text, dated, "");
}

Applied ProxyGenerator::apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns, RuleSet,
                              const ApplyOptions& options) const {
  Applied applied;
  if (!options.first) return applied;
  applied.additions.push_back("a modprobe that refuses, first in the proxy's PATH (kernel modules are host-global)");
  // A restrictive node (inputPolicy: DROP) still lets loopback in, as every
  // real node's firewall does: the proxy reaches kpath's API server on 127.0.0.1.
  const Node* n = cluster.node(node);
  if (n && n->input_policy_drop) {
    install_rules(node_ns,
                  RuleSet{RuleBackend::IptablesRestore,
                          "*filter\n-I INPUT -i lo -j ACCEPT\nCOMMIT\n",
                          "loopback accepted (added by kpath)",
                          {}},
                  options.install, /*noflush=*/true);
    applied.additions.push_back(
        "filter INPUT accepts loopback (-i lo), so the proxy reaches kpath's API server "
        "through inputPolicy: DROP");
  }
  if (mode_ != ProxyMode::Iptables) return applied;
  int drop_bit = kubelet_drop_bit(cluster.proxy.masquerade_bit);
  install_rules(
      node_ns, RuleSet{RuleBackend::IptablesRestore, kubelet_chains(drop_bit), "kubelet's chains (added by kpath)", {}},
      options.install, /*noflush=*/true);
  applied.additions.push_back(fmt::format(
      "kubelet's KUBE-MARK-DROP (nat) and KUBE-FIREWALL (filter, from INPUT and OUTPUT) chains with drop mark "
      "{:#x}, which kube-proxy's iptables rules jump to and leave to kubelet",
      1u << drop_bit));
  return applied;
}

std::unique_ptr<LiveGenerator> ProxyGenerator::start(const Cluster& cluster, const NamespaceOf& ns,
                                                     const StartOptions& options) const {
  return std::make_unique<ProxyRun>(command_, base_, mode_, cluster, ns, options);
}

}  // namespace harness
