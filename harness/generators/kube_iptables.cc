#include "harness/generators/kube_iptables.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include <sys/socket.h>

#include "base/error.h"
#include "harness/generators/kube_common.h"
#include "harness/generators/kube_hash.h"
#include "harness/rules/features.h"
#include "netns/process.h"

namespace harness {

namespace {

using kube::Args;
using kube::args;
using kube::Categorized;
using kube::EndpointInfo;
using kube::quoted;
using kube::ServicePortInfo;

const char* const kServices = "KUBE-SERVICES";
const char* const kExternalServices = "KUBE-EXTERNAL-SERVICES";
const char* const kNodePorts = "KUBE-NODEPORTS";
const char* const kPostrouting = "KUBE-POSTROUTING";
const char* const kMarkMasq = "KUBE-MARK-MASQ";
const char* const kForward = "KUBE-FORWARD";
const char* const kProxyFirewall = "KUBE-PROXY-FIREWALL";
const char* const kKubeletFirewall = "KUBE-FIREWALL";
const char* const kInvalidCounter = "ct_state_invalid_dropped_pkts";
const char* const kLocalhostCounter = "localhost_nps_accepted_pkts";

std::string chain_line(const std::string& chain) { return ":" + chain + " - [0:0]"; }

// `-m comment --comment "TEXT"`, quoted as kube-proxy writes its descriptive comments.
Args comment(std::string_view text) { return args("-m", "comment", "--comment", quoted(text)); }
// The bare service port name, as kube-proxy writes it on NodePort and endpoint rules.
Args name_comment(const std::string& spn) { return args("-m", "comment", "--comment", spn); }
// `-m tcp -p tcp [-d DST] --dport PORT`.
Args match(const std::string& proto, const std::string& dst, uint16_t port) {
  return args("-m", proto, "-p", proto, dst.empty() ? Args() : args("-d", dst), "--dport", port);
}

// One jump kube-proxy inserts into a built-in chain.
struct BaseJump {
  const char* table;
  const char* from;  // built-in chain
  const char* to;
  const char* comment;  // "" for none
  bool ct_new;          // "-m conntrack --ctstate NEW" before the comment
};

// kube-proxy's jump list followed by kubelet's KUBE-FIREWALL jumps, in the
// order they are inserted (each one with -I, so at the head of its chain).
const BaseJump kBaseJumps[] = {
    {"filter", "INPUT", kExternalServices, "kubernetes externally-visible service portals", true},
    {"filter", "FORWARD", kExternalServices, "kubernetes externally-visible service portals", true},
    {"filter", "INPUT", kNodePorts, "kubernetes health check service ports", false},
    {"filter", "FORWARD", kServices, "kubernetes service portals", true},
    {"filter", "OUTPUT", kServices, "kubernetes service portals", true},
    {"filter", "FORWARD", kForward, "kubernetes forwarding rules", false},
    {"filter", "INPUT", kProxyFirewall, "kubernetes load balancer firewall", true},
    {"filter", "OUTPUT", kProxyFirewall, "kubernetes load balancer firewall", true},
    {"filter", "FORWARD", kProxyFirewall, "kubernetes load balancer firewall", true},
    {"nat", "OUTPUT", kServices, "kubernetes service portals", false},
    {"nat", "PREROUTING", kServices, "kubernetes service portals", false},
    {"nat", "POSTROUTING", kPostrouting, "kubernetes postrouting rules", false},
    {"filter", "INPUT", kKubeletFirewall, "", false},
    {"filter", "OUTPUT", kKubeletFirewall, "", false},
};

// The built-in chains of each table, in iptables-save order.
const std::vector<std::string>& builtin_chains(const std::string& table) {
  static const std::vector<std::string> filter = {"INPUT", "FORWARD", "OUTPUT"};
  static const std::vector<std::string> nat = {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"};
  return table == "nat" ? nat : filter;
}

// `-A` lines of the base jumps for one table, final order within each chain.
std::vector<std::string> base_jump_rules(const std::string& table) {
  std::vector<std::string> out;
  for (const auto& chain : builtin_chains(table)) {
    std::vector<std::string> lines;  // built by inserting at the head
    for (const auto& j : kBaseJumps) {
      if (table != j.table || chain != j.from) continue;
      lines.insert(lines.begin(), args("-A", j.from, j.ct_new ? args("-m", "conntrack", "--ctstate", "NEW") : Args(),
                                       *j.comment ? comment(j.comment) : Args(), "-j", j.to)
                                      .str());
    }
    out.insert(out.end(), lines.begin(), lines.end());
  }
  return out;
}

struct Tables {
  std::vector<std::string> filter_chains, filter_rules, nat_chains, nat_rules;
};

// Which node addresses take NodePort traffic (kube-proxy's NodePortAddresses).
struct NodePortAddrs {
  bool match_all = false;
  bool contains_loopback = false;
  std::vector<Ip> ips;  // when !match_all
};

NodePortAddrs node_port_addresses(const ProxyOptions& o, const Node& node, int family) {
  NodePortAddrs a;
  Ip loopback = Ip::from(family == AF_INET6 ? "::1" : "127.0.0.1");
  if (o.node_port_addresses_primary) {
    if (auto p = kube::primary_ip(node, family)) a.ips.push_back(*p);
    return a;
  }
  std::vector<Cidr> cidrs;
  for (const auto& c : o.node_port_addresses)
    if (c.ip().family() == family) cidrs.push_back(c);
  if (cidrs.empty()) {
    a.match_all = a.contains_loopback = true;
    return a;
  }
  for (const auto& c : cidrs) {
    if (c.prefix_len() == 0) a.match_all = true;
    if (c.contains(loopback)) a.contains_loopback = true;
  }
  if (a.match_all) return a;
  std::vector<Ip> candidates;
  for (const auto& ip : node.ips)
    if (ip.family() == family) candidates.push_back(ip);
  candidates.push_back(loopback);
  for (const auto& ip : candidates)
    for (const auto& c : cidrs)
      if (c.contains(ip)) {
        a.ips.push_back(ip);
        break;
      }
  return a;
}

// The filter-table verdict for traffic its policy leaves without an endpoint:
// REJECT when the Service has none at all, DROP when only local ones are missing.
struct NoEndpoints {
  std::string target;
  Args comment;
};

NoEndpoints no_endpoints(const std::string& spn, bool has_any) {
  if (!has_any) return {"REJECT", comment(spn + " has no endpoints")};
  return {"DROP", comment(spn + " has no local endpoints")};
}

// One service port's chains and what its traffic policies decide, worked out
// before any of its rules is written (a view: `sp` must outlive it).
struct Plan {
  const ServicePortInfo& sp;
  Categorized cat;
  std::string cluster_chain, local_chain, ext_chain, fw_chain;
  kube::PolicyChains policy;
  bool uses_cluster_chain, uses_local_chain, uses_ext_chain, uses_fw_chain;
  NoEndpoints no_endpoints;

  // Where LoadBalancer IP traffic goes: through the source-range firewall if there is one.
  const std::string& lb_chain() const { return uses_fw_chain ? fw_chain : ext_chain; }
};

Plan plan(const ServicePortInfo& sp) {
  const std::string& spn = sp.name;
  Plan p{sp,
         kube::categorize(sp),
         kube::svc_chain(spn, sp.protocol),
         kube::svl_chain(spn, sp.protocol),
         kube::ext_chain(spn, sp.protocol),
         kube::fw_chain(spn, sp.protocol)};
  const bool has_any = p.cat.has_any;
  p.policy = kube::policy_chains(sp, p.cat, p.cluster_chain, p.local_chain);
  p.uses_cluster_chain = !p.cat.cluster.empty() && sp.uses_cluster_endpoints();
  p.uses_local_chain = !p.cat.local.empty() && sp.uses_local_endpoints();
  p.uses_ext_chain = has_any && sp.externally_accessible();
  p.uses_fw_chain = has_any && !sp.load_balancer_ips.empty() && !sp.source_ranges.empty();
  p.no_endpoints = no_endpoints(spn, has_any);
  return p;
}

class Writer {
 public:
  // One proxier's rules: kube-proxy runs one per family (iptables, ip6tables).
  Writer(const Cluster& cluster, const Node& node, const KubeIptablesGenerator::Options& options, int family)
      : o_(cluster.proxy),
        node_(node),
        family_(family),
        nfacct_(options.nfacct),
        port_names_(options.pre_1_19_port_names ? kube::PortNames::Pre119 : kube::PortNames::Current),
        mark_(kube::masquerade_mark(o_)) {
    npa_ = node_port_addresses(o_, node_, family);
    // IPv6 has no route_localnet: kube-proxy's IPv6 proxier never serves NodePorts on ::1.
    localhost_node_ports_ = family == AF_INET && o_.localhost_node_ports && npa_.contains_loopback;
    local_ = kube::local_detector(o_, node_, family);
    node_ip_ = kube::primary_ip(node_, family);
  }

  Tables write(const Cluster& cluster) {
    for (const char* c : {kServices, kExternalServices, kForward, kNodePorts, kProxyFirewall})
      t_.filter_chains.push_back(chain_line(c));
    for (const char* c : {kServices, kNodePorts, kPostrouting, kMarkMasq}) nat_chain(c);
    masquerade_rules();
    if (localhost_node_ports_) localnet_block();
    for (const auto& sp : kube::service_ports(cluster, node_.name, port_names_, family_)) service(sp);
    node_ports_jump();
    forward_rules();
    return std::move(t_);
  }

 private:
  template <typename... Parts>
  void nat(const Parts&... parts) {
    t_.nat_rules.push_back(args(parts...).str());
  }
  template <typename... Parts>
  void filter(const Parts&... parts) {
    t_.filter_rules.push_back(args(parts...).str());
  }
  void nat_chain(const std::string& c) { t_.nat_chains.push_back(chain_line(c)); }

  // KUBE-MARK-MASQ marks, KUBE-POSTROUTING masquerades what is marked.
  void masquerade_rules() {
    nat("-A", kPostrouting, "-m", "mark", "!", "--mark", mark_ + "/" + mark_, "-j", "RETURN");
    nat("-A", kPostrouting, "-j", "MARK", "--xor-mark", mark_);
    nat("-A", kPostrouting, comment("kubernetes service traffic requiring SNAT"), "-j", "MASQUERADE",
        o_.random_fully ? "--random-fully" : "");
    nat("-A", kMarkMasq, "-j", "MARK", "--or-mark", mark_);
  }

  // With NodePorts on localhost, kube-proxy (standing in for kubelet) blocks
  // localnet destinations from other sources unless they were DNATed.
  void localnet_block() {
    t_.filter_chains.push_back(chain_line(kKubeletFirewall));
    filter("-A", kKubeletFirewall, comment("block incoming localnet connections"), "-d", "127.0.0.0/8", "!", "-s",
           "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP");
  }

  // The tail call to KUBE-NODEPORTS, last in KUBE-SERVICES.
  void node_ports_jump() {
    const Args why = comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain");
    if (npa_.match_all) {
      const Args no_localhost = family_ == AF_INET6     ? args("!", "-d", "::1/128")
                                : localhost_node_ports_ ? Args()
                                                        : args("!", "-d", "127.0.0.0/8");
      nat("-A", kServices, why, "-m", "addrtype", "--dst-type", "LOCAL", no_localhost, "-j", kNodePorts);
      return;
    }
    for (const auto& ip : npa_.ips)
      if (!ip.is_loopback() || localhost_node_ports_) nat("-A", kServices, why, "-d", ip.str(), "-j", kNodePorts);
  }

  void forward_rules() {
    filter("-A", kForward, "-m", "conntrack", "--ctstate", "INVALID",
           nfacct_ ? args("-m", "nfacct", "--nfacct-name", kInvalidCounter) : Args(), "-j", "DROP");
    filter("-A", kForward, comment("kubernetes forwarding rules"), "-m", "mark", "--mark", mark_ + "/" + mark_, "-j",
           "ACCEPT");
    filter("-A", kForward, comment("kubernetes forwarding conntrack rule"), "-m", "conntrack", "--ctstate",
           "RELATED,ESTABLISHED", "-j", "ACCEPT");
  }

  // One service port, in kube-proxy's order: the rules that catch its
  // destinations, then its own chains.
  void service(const ServicePortInfo& sp) {
    const Plan p = plan(sp);
    cluster_ip_rule(p);
    for (const auto& ip : sp.external_ips) external_ip_rules(p, ip);
    load_balancer_rules(p);
    if (sp.node_port != 0) node_port_rules(p);
    if (sp.health_check_node_port != 0)  // always TCP
      filter("-A", kNodePorts, comment(sp.name + " health check node port"),
             match("tcp", "", sp.health_check_node_port), "-j", "ACCEPT");
    if (p.policy.has_internal) cluster_ip_masquerade(p);
    if (p.uses_ext_chain) external_chain(p);
    if (p.uses_fw_chain) firewall_chain(p);
    if (p.uses_cluster_chain) policy_chain(sp, p.cluster_chain, p.cat.cluster);
    if (p.uses_local_chain) policy_chain(sp, p.local_chain, p.cat.local);
    for (const auto& ep : p.cat.all_reachable) endpoint_chain(sp, ep);
  }

  void cluster_ip_rule(const Plan& p) {
    const Args m = match(p.sp.protocol, p.sp.cluster_ip.str(), p.sp.port->port);
    if (p.policy.has_internal) nat("-A", kServices, comment(p.sp.name + " cluster IP"), m, "-j", p.policy.internal);
    else filter("-A", kServices, p.no_endpoints.comment, m, "-j", p.no_endpoints.target);
  }

  void external_ip_rules(const Plan& p, const Ip& ip) {
    const Args m = match(p.sp.protocol, ip.str(), p.sp.port->port);
    if (p.cat.has_any) nat("-A", kServices, comment(p.sp.name + " external IP"), m, "-j", p.ext_chain);
    if (!p.policy.has_external) filter("-A", kExternalServices, p.no_endpoints.comment, m, "-j", p.no_endpoints.target);
  }

  // LoadBalancer ingress IPs; with loadBalancerSourceRanges, what the
  // firewall chain does not accept is dropped in the filter table.
  void load_balancer_rules(const Plan& p) {
    const ServicePortInfo& sp = p.sp;
    for (const auto& ip : sp.load_balancer_ips) {
      const Args m = match(sp.protocol, ip.str(), sp.port->port);
      if (p.cat.has_any) nat("-A", kServices, comment(sp.name + " loadbalancer IP"), m, "-j", p.lb_chain());
      if (p.uses_fw_chain)
        filter("-A", kProxyFirewall, comment(sp.name + " traffic not accepted by " + p.fw_chain), m, "-j", "DROP");
    }
    if (p.policy.has_external) return;
    for (const auto& ip : sp.load_balancer_ips)
      filter("-A", kExternalServices, p.no_endpoints.comment, match(sp.protocol, ip.str(), sp.port->port), "-j",
             p.no_endpoints.target);
  }

  void node_port_rules(const Plan& p) {
    const ServicePortInfo& sp = p.sp;
    if (p.cat.has_any) {
      if (localhost_node_ports_ && nfacct_)
        nat("-A", kNodePorts, name_comment(sp.name), match(sp.protocol, "127.0.0.0/8", sp.node_port), "-m", "nfacct",
            "--nfacct-name", kLocalhostCounter, "-j", p.ext_chain);
      nat("-A", kNodePorts, name_comment(sp.name), match(sp.protocol, "", sp.node_port), "-j", p.ext_chain);
    }
    if (!p.policy.has_external)
      filter("-A", kExternalServices, p.no_endpoints.comment, "-m", "addrtype", "--dst-type", "LOCAL",
             match(sp.protocol, "", sp.node_port), "-j", p.no_endpoints.target);
  }

  // Masquerade off-cluster traffic to the ClusterIP (all of it under masqueradeAll).
  void cluster_ip_masquerade(const Plan& p) {
    if (!o_.masquerade_all && !local_.implemented()) return;  // no way to tell off-cluster traffic
    nat("-A", p.policy.internal, comment(p.sp.name + " cluster IP"),
        match(p.sp.protocol, p.sp.cluster_ip.str(), p.sp.port->port), o_.masquerade_all ? Args() : local_.if_not_local,
        "-j", kMarkMasq);
  }

  // The "external destinations" chain: masquerade, except under a Local
  // external policy, where only pod and node-local sources are masqueraded
  // or short-circuited to the cluster-wide chain.
  void external_chain(const Plan& p) {
    const std::string& spn = p.sp.name;
    nat_chain(p.ext_chain);
    if (!p.sp.external_policy_local) {
      nat("-A", p.ext_chain, comment("masquerade traffic for " + spn + " external destinations"), "-j", kMarkMasq);
    } else {
      if (local_.implemented())
        nat("-A", p.ext_chain, comment("pod traffic for " + spn + " external destinations"), local_.if_local, "-j",
            p.cluster_chain);
      nat("-A", p.ext_chain, comment("masquerade LOCAL traffic for " + spn + " external destinations"), "-m",
          "addrtype", "--src-type", "LOCAL", "-j", kMarkMasq);
      nat("-A", p.ext_chain, comment("route LOCAL traffic for " + spn + " external destinations"), "-m", "addrtype",
          "--src-type", "LOCAL", "-j", p.cluster_chain);
    }
    if (p.policy.has_external) nat("-A", p.ext_chain, "-j", p.policy.external);
  }

  // loadBalancerSourceRanges: accepted sources go on to the external chain
  // (the node itself too when a range covers it, as LB IP hairpin traffic).
  void firewall_chain(const Plan& p) {
    const ServicePortInfo& sp = p.sp;
    nat_chain(p.fw_chain);
    const Args head = args("-A", p.fw_chain, comment(sp.name + " loadbalancer IP"));
    bool allow_from_node = false;
    for (const auto& cidr : sp.source_ranges) {
      nat(head, "-s", cidr.str(), "-j", p.ext_chain);
      if (node_ip_ && cidr.contains(*node_ip_)) allow_from_node = true;
    }
    if (allow_from_node)
      for (const auto& ip : sp.load_balancer_ips) nat(head, "-s", ip.str(), "-j", p.ext_chain);
    nat("-A", p.fw_chain, comment("other traffic to " + sp.name + " will be dropped by KUBE-PROXY-FIREWALL"));
  }

  // KUBE-SVC-/KUBE-SVL-: session affinity first, then endpoint i of n taken
  // with probability 1/(n-i), the last one unconditionally.
  void policy_chain(const ServicePortInfo& sp, const std::string& chain, const std::vector<EndpointInfo>& endpoints) {
    nat_chain(chain);
    if (sp.affinity)
      for (const auto& ep : endpoints) {
        const std::string sep = kube::sep_chain(sp.name, sp.protocol, ep.str());
        nat("-A", chain, comment(sp.name + " -> " + ep.str()), "-m", "recent", "--name", sep, "--rcheck", "--seconds",
            sp.affinity_timeout, "--reap", "-j", sep);
      }
    const size_t n = endpoints.size();
    for (size_t i = 0; i < n; ++i) {
      const std::string ep = endpoints[i].str();
      const Args pick = i + 1 < n ? args("-m", "statistic", "--mode", "random", "--probability",
                                         kube::probability(int(n - i)))
                                  : Args();
      nat("-A", chain, comment(sp.name + " -> " + ep), pick, "-j", kube::sep_chain(sp.name, sp.protocol, ep));
    }
  }

  // KUBE-SEP-: mark hairpin traffic for masquerade, then DNAT.
  void endpoint_chain(const ServicePortInfo& sp, const EndpointInfo& ep) {
    const std::string chain = kube::sep_chain(sp.name, sp.protocol, ep.str());
    nat_chain(chain);
    const Args head = args("-A", chain, name_comment(sp.name));
    nat(head, "-s", ep.ip.str(), "-j", kMarkMasq);
    nat(head, sp.affinity ? args("-m", "recent", "--name", chain, "--set") : Args(), "-m", sp.protocol, "-p",
        sp.protocol, "-j", "DNAT", "--to-destination", ep.str());
  }

  const ProxyOptions& o_;
  const Node& node_;
  int family_;
  bool nfacct_;
  kube::PortNames port_names_;
  std::string mark_;
  NodePortAddrs npa_;
  bool localhost_node_ports_ = false;
  kube::LocalDetector local_;
  std::optional<Ip> node_ip_;
  Tables t_;
};

void append(std::string& out, const std::vector<std::string>& lines) {
  for (const auto& l : lines) {
    out += l;
    out += '\n';
  }
}

}  // namespace

std::string KubeIptablesGenerator::restore_input(const Cluster& cluster, const std::string& node, int family) const {
  Tables t = Writer(cluster, kube::node_or_throw(cluster, node), options_, family).write(cluster);
  std::string out = "*filter\n";
  append(out, t.filter_chains);
  append(out, t.filter_rules);
  out += "COMMIT\n*nat\n";
  append(out, t.nat_chains);
  append(out, t.nat_rules);
  out += "COMMIT\n";
  return out;
}

std::string KubeIptablesGenerator::base_chain_jumps() const {
  std::string out;
  for (const char* table : {"filter", "nat"}) {
    out += std::string("*") + table + "\n";
    append(out, base_jump_rules(table));
    out += "COMMIT\n";
  }
  return out;
}

std::string KubeIptablesGenerator::standalone_input(const Cluster& cluster, const std::string& node, int family) const {
  Tables t = Writer(cluster, kube::node_or_throw(cluster, node), options_, family).write(cluster);
  // Standalone: declare the built-in chains, make sure every chain a jump
  // targets exists (KUBE-FIREWALL is kubelet's and may be empty), then the
  // rules and finally the jumps.
  bool has_kubelet_firewall = false;
  for (const auto& c : t.filter_chains)
    if (c == chain_line(kKubeletFirewall)) has_kubelet_firewall = true;
  if (!has_kubelet_firewall) t.filter_chains.push_back(chain_line(kKubeletFirewall));

  std::string out;
  for (const std::string table : {"filter", "nat"}) {
    out += "*" + table + "\n";
    for (const auto& c : builtin_chains(table)) out += ":" + c + " ACCEPT [0:0]\n";
    append(out, table == "nat" ? t.nat_chains : t.filter_chains);
    append(out, table == "nat" ? t.nat_rules : t.filter_rules);
    append(out, base_jump_rules(table));
    out += "COMMIT\n";
  }
  return out;
}

RuleSet KubeIptablesGenerator::generate(const Cluster& cluster, const std::string& node) const {
  RuleSet rs;
  rs.backend = RuleBackend::IptablesRestore;
  // One proxier per family the cluster runs; an IPv4 cluster's IPv4 text is
  // written whatever else it has, so single-stack output stays as it was.
  const std::vector<int> families = cluster.families();
  const bool v4 = std::find(families.begin(), families.end(), AF_INET) != families.end();
  const bool v6 = std::find(families.begin(), families.end(), AF_INET6) != families.end();
  auto text = [&](int family) {
    return options_.base_chain_jumps ? standalone_input(cluster, node, family) : restore_input(cluster, node, family);
  };
  if (v4 || !v6) rs.text = text(AF_INET);
  if (v6) rs.text6 = text(AF_INET6);
  return rs;
}

namespace {

// The node's nat table as its iptables-save of `family` lists it.
std::string node_nat_table(const netns::Namespace& ns, int family, const InstallOptions& options) {
  const std::string tool = std::string(family == AF_INET6 ? "ip6tables" : "iptables") +
                           (options.iptables == IptablesVariant::Nft ? "-nft-save" : "-legacy-save");
  const netns::ProcessResult r = netns::run_process(ns, {tool, "-t", "nat"}, {}, options.timeout);
  if (r.exit_code != 0) throw kpath::Error(tool + " -t nat failed: " + r.err_tail());
  return r.out;
}

}  // namespace

Applied KubeIptablesGenerator::apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns,
                                     RuleSet rules, const ApplyOptions& options) const {
  // A fresh namespace holds no chain yet: only later syncs can leave stale ones.
  if (!options.first) {
    if (!rules.text.empty())
      rules.text = with_stale_chains_deleted(rules.text, nat_chains(node_nat_table(node_ns, AF_INET, options.install)));
    if (!rules.text6.empty())
      rules.text6 = with_stale_chains_deleted(rules.text6,
                                              nat_chains(node_nat_table(node_ns, AF_INET6, options.install)));
  }
  return Generator::apply(cluster, node, node_ns, std::move(rules), options);
}

bool is_service_chain(std::string_view chain) {
  for (std::string_view prefix : {"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-"})
    if (chain.starts_with(prefix)) return true;
  return false;
}

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// ":NAME POLICY [p:b]" -> NAME.
std::string declared_chain(const std::string& line) { return line.substr(1, line.find(' ') - 1); }

bool is_node_ports_tail_call(const std::string& line) {
  return line.starts_with("-A KUBE-SERVICES ") && line.find("-j KUBE-NODEPORTS") != std::string::npos;
}

// Where the nat table's chain declarations end (the line after the last one)
// and where its -X lines go: before the tail call, or before COMMIT where
// there is none. Nothing for text without a complete nat table.
struct NatPlaces {
  size_t declarations_end, deletions;
};
std::optional<NatPlaces> nat_places(const std::vector<std::string>& lines) {
  auto nat = std::find(lines.begin(), lines.end(), "*nat");
  if (nat == lines.end()) return std::nullopt;
  NatPlaces p{static_cast<size_t>(nat - lines.begin()) + 1, 0};
  for (size_t i = p.declarations_end; i < lines.size(); ++i) {
    if (lines[i].starts_with(":")) p.declarations_end = i + 1;
    if (p.deletions == 0 && is_node_ports_tail_call(lines[i])) p.deletions = i;
    if (lines[i] == "COMMIT") {
      if (p.deletions == 0) p.deletions = i;
      return p;
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> nat_chains(const std::string& text) {
  std::vector<std::string> out;
  bool in_nat = false;
  for (const auto& line : lines_of(text)) {
    if (line.starts_with("*")) in_nat = line == "*nat";
    else if (in_nat && line.starts_with(":")) out.push_back(declared_chain(line));
  }
  return out;
}

std::string with_stale_chains_deleted(const std::string& restore, const std::vector<std::string>& existing) {
  const std::vector<std::string> declared = nat_chains(restore);
  std::set<std::string> stale;
  for (const auto& c : existing)
    if (is_service_chain(c) && std::find(declared.begin(), declared.end(), c) == declared.end()) stale.insert(c);
  std::vector<std::string> lines = lines_of(restore);
  const auto places = nat_places(lines);
  if (stale.empty() || !places) return restore;
  std::vector<std::string> decls, removals;
  for (const auto& c : stale) {
    decls.push_back(":" + c + " - [0:0]");
    removals.push_back("-X " + c);
  }
  // The later place first, so the earlier one stays where it was.
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(places->deletions), removals.begin(), removals.end());
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(places->declarations_end), decls.begin(), decls.end());
  std::string out;
  append(out, lines);
  return out;
}

std::vector<std::string> KubeIptablesGenerator::needs(const Cluster& cluster) const {
  auto out = mode_needs(ProxyMode::Iptables, cluster);
  if (options_.nfacct) out.push_back(feature::kNfacct);
  return out;
}

std::string kube_proxy_jumps_for(const RuleSet& rules) {
  if (rules.backend != RuleBackend::IptablesRestore) return {};
  static const std::regex declares_services(R"((^|\n):KUBE-SERVICES )");
  static const std::regex has_jump(R"((^|\n)-A (PREROUTING|OUTPUT) [^\n]*-j KUBE-SERVICES)");
  if (!std::regex_search(rules.text, declares_services) || std::regex_search(rules.text, has_jump)) return {};
  // Only jumps to chains the dump declares: kube-proxy's set depends on its version.
  static const std::regex chain_decl(R"((^|\n):(KUBE-[A-Z0-9-]+) )");
  std::set<std::string> declared;
  for (std::sregex_iterator it(rules.text.begin(), rules.text.end(), chain_decl), end; it != end; ++it)
    declared.insert((*it)[2]);
  static const std::regex jump_target(R"(-j (KUBE-[A-Z0-9-]+))");
  std::string jumps;
  std::istringstream in(KubeIptablesGenerator().base_chain_jumps());
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, jump_target) && !declared.count(m[1])) continue;
    jumps += line + "\n";
  }
  return jumps;
}

}  // namespace harness
