#include "harness/generators/kube_iptables.h"

#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include "harness/generators/kube_common.h"
#include "harness/generators/kube_hash.h"

namespace harness {

namespace {

using kube::Categorized;
using kube::EndpointInfo;
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

std::string quoted(const std::string& s) { return "\"" + s + "\""; }
std::string chain_line(const std::string& chain) { return ":" + chain + " - [0:0]"; }

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
      std::string l = std::string("-A ") + j.from;
      if (j.ct_new) l += " -m conntrack --ctstate NEW";
      if (*j.comment) l += " -m comment --comment " + quoted(j.comment);
      l += std::string(" -j ") + j.to;
      lines.insert(lines.begin(), l);
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

NodePortAddrs node_port_addresses(const ProxyOptions& o, const Node& node) {
  NodePortAddrs a;
  Ip loopback = Ip::from("127.0.0.1");
  if (o.node_port_addresses_primary) {
    if (auto p = kube::primary_ipv4(node)) a.ips.push_back(*p);
    return a;
  }
  std::vector<Cidr> cidrs;
  for (const auto& c : o.node_port_addresses)
    if (c.ip().is_v4()) cidrs.push_back(c);
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
    if (ip.is_v4()) candidates.push_back(ip);
  candidates.push_back(loopback);
  for (const auto& ip : candidates)
    for (const auto& c : cidrs)
      if (c.contains(ip)) {
        a.ips.push_back(ip);
        break;
      }
  return a;
}

class Writer {
 public:
  Writer(const Cluster& cluster, const Node& node, bool nfacct)
      : o_(cluster.proxy), node_(node), nfacct_(nfacct), mark_(kube::masquerade_mark(o_)) {
    npa_ = node_port_addresses(o_, node_);
    localhost_node_ports_ = o_.localhost_node_ports && npa_.contains_loopback;
    if (o_.cluster_cidr && o_.cluster_cidr->ip().is_v4()) pod_cidr_ = o_.cluster_cidr->network().str();
    node_ip_ = kube::primary_ipv4(node_);
  }

  Tables write(const Cluster& cluster) {
    for (const char* c : {kServices, kExternalServices, kForward, kNodePorts, kProxyFirewall})
      t_.filter_chains.push_back(chain_line(c));
    for (const char* c : {kServices, kNodePorts, kPostrouting, kMarkMasq})
      t_.nat_chains.push_back(chain_line(c));

    nat(std::string("-A ") + kPostrouting + " -m mark ! --mark " + mark_ + "/" + mark_ + " -j RETURN");
    nat(std::string("-A ") + kPostrouting + " -j MARK --xor-mark " + mark_);
    nat(std::string("-A ") + kPostrouting + " -m comment --comment " +
        quoted("kubernetes service traffic requiring SNAT") + " -j MASQUERADE" +
        (o_.random_fully ? " --random-fully" : ""));
    nat(std::string("-A ") + kMarkMasq + " -j MARK --or-mark " + mark_);

    if (localhost_node_ports_) {
      t_.filter_chains.push_back(chain_line(kKubeletFirewall));
      filter(std::string("-A ") + kKubeletFirewall + " -m comment --comment " +
             quoted("block incoming localnet connections") +
             " -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP");
    }

    for (const auto& sp : kube::service_ports(cluster, node_.name)) service(sp);

    // The tail call to KUBE-NODEPORTS, last in KUBE-SERVICES.
    const std::string np_comment =
        " -m comment --comment " +
        quoted("kubernetes service nodeports; NOTE: this must be the last rule in this chain");
    if (npa_.match_all) {
      std::string dest = " -m addrtype --dst-type LOCAL";
      if (!localhost_node_ports_) dest += " ! -d 127.0.0.0/8";
      nat(std::string("-A ") + kServices + np_comment + dest + " -j " + kNodePorts);
    } else {
      for (const auto& ip : npa_.ips) {
        if (ip.is_loopback() && !localhost_node_ports_) continue;
        nat(std::string("-A ") + kServices + np_comment + " -d " + ip.str() + " -j " + kNodePorts);
      }
    }

    filter(std::string("-A ") + kForward + " -m conntrack --ctstate INVALID" +
           (nfacct_ ? std::string(" -m nfacct --nfacct-name ") + kInvalidCounter : "") + " -j DROP");
    filter(std::string("-A ") + kForward + " -m comment --comment " + quoted("kubernetes forwarding rules") +
           " -m mark --mark " + mark_ + "/" + mark_ + " -j ACCEPT");
    filter(std::string("-A ") + kForward + " -m comment --comment " +
           quoted("kubernetes forwarding conntrack rule") +
           " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
    return std::move(t_);
  }

 private:
  void nat(std::string l) { t_.nat_rules.push_back(std::move(l)); }
  void filter(std::string l) { t_.filter_rules.push_back(std::move(l)); }
  void nat_chain(const std::string& c) { t_.nat_chains.push_back(chain_line(c)); }

  static std::string match(const std::string& proto, const std::string& dst, uint16_t port) {
    std::string s = " -m " + proto + " -p " + proto;
    if (!dst.empty()) s += " -d " + dst;
    return s + " --dport " + std::to_string(port);
  }

  void service(const ServicePortInfo& sp) {
    const std::string& proto = sp.protocol;
    const std::string& spn = sp.name;
    const Categorized cat = kube::categorize(sp);
    const std::string cluster_chain = kube::svc_chain(spn, proto);
    const std::string local_chain = kube::svl_chain(spn, proto);
    const std::string ext_chain = kube::ext_chain(spn, proto);
    const std::string fw_chain = kube::fw_chain(spn, proto);
    const bool has_endpoints = cat.has_any;

    const bool uses_cluster_chain = !cat.cluster.empty() && sp.uses_cluster_endpoints();
    const bool uses_local_chain = !cat.local.empty() && sp.uses_local_endpoints();

    const auto [internal_chain, external_policy_chain, has_internal, has_external] =
        kube::policy_chains(sp, cat, cluster_chain, local_chain);
    const bool uses_ext_chain = has_endpoints && sp.externally_accessible();
    const bool uses_fw_chain = has_endpoints && !sp.load_balancer_ips.empty() && !sp.source_ranges.empty();
    const std::string lb_chain = uses_fw_chain ? fw_chain : ext_chain;

    std::string internal_target, internal_comment, external_target, external_comment;
    if (!has_endpoints) {
      internal_target = external_target = "REJECT";
      internal_comment = external_comment = quoted(spn + " has no endpoints");
    } else {
      if (!has_internal) {
        internal_target = "DROP";
        internal_comment = quoted(spn + " has no local endpoints");
      }
      if (!has_external) {
        external_target = "DROP";
        external_comment = quoted(spn + " has no local endpoints");
      }
    }

    const std::string cip = sp.cluster_ip.str();
    const uint16_t port = sp.port->port;

    // ClusterIP.
    if (has_internal)
      nat(std::string("-A ") + kServices + " -m comment --comment " + quoted(spn + " cluster IP") +
          match(proto, cip, port) + " -j " + internal_chain);
    else
      filter(std::string("-A ") + kServices + " -m comment --comment " + internal_comment +
             match(proto, cip, port) + " -j " + internal_target);

    // externalIPs.
    for (const auto& ip : sp.external_ips) {
      if (has_endpoints)
        nat(std::string("-A ") + kServices + " -m comment --comment " + quoted(spn + " external IP") +
            match(proto, ip.str(), port) + " -j " + ext_chain);
      if (!has_external)
        filter(std::string("-A ") + kExternalServices + " -m comment --comment " + external_comment +
               match(proto, ip.str(), port) + " -j " + external_target);
    }

    // LoadBalancer ingress IPs.
    for (const auto& ip : sp.load_balancer_ips) {
      if (has_endpoints)
        nat(std::string("-A ") + kServices + " -m comment --comment " + quoted(spn + " loadbalancer IP") +
            match(proto, ip.str(), port) + " -j " + lb_chain);
      if (uses_fw_chain)
        filter(std::string("-A ") + kProxyFirewall + " -m comment --comment " +
               quoted(spn + " traffic not accepted by " + fw_chain) + match(proto, ip.str(), port) +
               " -j DROP");
    }
    if (!has_external)
      for (const auto& ip : sp.load_balancer_ips)
        filter(std::string("-A ") + kExternalServices + " -m comment --comment " + external_comment +
               match(proto, ip.str(), port) + " -j " + external_target);

    // NodePort.
    if (sp.node_port != 0) {
      if (has_endpoints) {
        if (localhost_node_ports_ && nfacct_)
          nat(std::string("-A ") + kNodePorts + " -m comment --comment " + spn + match(proto, "127.0.0.0/8", sp.node_port) +
              " -m nfacct --nfacct-name " + kLocalhostCounter + " -j " + ext_chain);
        nat(std::string("-A ") + kNodePorts + " -m comment --comment " + spn + match(proto, "", sp.node_port) +
            " -j " + ext_chain);
      }
      if (!has_external)
        filter(std::string("-A ") + kExternalServices + " -m comment --comment " + external_comment +
               " -m addrtype --dst-type LOCAL" + match(proto, "", sp.node_port) + " -j " + external_target);
    }

    // Health check node port (always TCP).
    if (sp.health_check_node_port != 0)
      filter(std::string("-A ") + kNodePorts + " -m comment --comment " +
             quoted(spn + " health check node port") + match("tcp", "", sp.health_check_node_port) +
             " -j ACCEPT");

    // Masquerade off-cluster traffic to the ClusterIP.
    if (has_internal) {
      std::string args = " -m comment --comment " + quoted(spn + " cluster IP") + match(proto, cip, port);
      if (o_.masquerade_all)
        nat("-A " + internal_chain + args + " -j " + kMarkMasq);
      else if (!pod_cidr_.empty())
        nat("-A " + internal_chain + args + " ! -s " + pod_cidr_ + " -j " + kMarkMasq);
    }

    // The "external destinations" chain.
    if (uses_ext_chain) {
      nat_chain(ext_chain);
      if (!sp.external_policy_local) {
        nat("-A " + ext_chain + " -m comment --comment " +
            quoted("masquerade traffic for " + spn + " external destinations") + " -j " + kMarkMasq);
      } else {
        if (!pod_cidr_.empty())
          nat("-A " + ext_chain + " -m comment --comment " +
              quoted("pod traffic for " + spn + " external destinations") + " -s " + pod_cidr_ + " -j " +
              cluster_chain);
        nat("-A " + ext_chain + " -m comment --comment " +
            quoted("masquerade LOCAL traffic for " + spn + " external destinations") +
            " -m addrtype --src-type LOCAL -j " + kMarkMasq);
        nat("-A " + ext_chain + " -m comment --comment " +
            quoted("route LOCAL traffic for " + spn + " external destinations") +
            " -m addrtype --src-type LOCAL -j " + cluster_chain);
      }
      if (has_external) nat("-A " + ext_chain + " -j " + external_policy_chain);
    }

    // loadBalancerSourceRanges.
    if (uses_fw_chain) {
      nat_chain(fw_chain);
      const std::string args = "-A " + fw_chain + " -m comment --comment " + quoted(spn + " loadbalancer IP");
      bool allow_from_node = false;
      for (const auto& cidr : sp.source_ranges) {
        nat(args + " -s " + cidr.str() + " -j " + ext_chain);
        if (node_ip_ && cidr.contains(*node_ip_)) allow_from_node = true;
      }
      if (allow_from_node)
        for (const auto& ip : sp.load_balancer_ips) nat(args + " -s " + ip.str() + " -j " + ext_chain);
      nat("-A " + fw_chain + " -m comment --comment " +
          quoted("other traffic to " + spn + " will be dropped by KUBE-PROXY-FIREWALL"));
    }

    if (uses_cluster_chain) {
      nat_chain(cluster_chain);
      endpoint_jumps(sp, cluster_chain, cat.cluster);
    }
    if (uses_local_chain) {
      nat_chain(local_chain);
      endpoint_jumps(sp, local_chain, cat.local);
    }

    // Endpoint chains.
    for (const auto& ep : cat.all_reachable) {
      const std::string chain = kube::sep_chain(spn, proto, ep.str());
      nat_chain(chain);
      const std::string head = "-A " + chain + " -m comment --comment " + spn;
      nat(head + " -s " + ep.ip.str() + " -j " + kMarkMasq);
      std::string dnat = head;
      if (sp.affinity) dnat += " -m recent --name " + chain + " --set";
      dnat += " -m " + proto + " -p " + proto + " -j DNAT --to-destination " + ep.str();
      nat(dnat);
    }
  }

  void endpoint_jumps(const ServicePortInfo& sp, const std::string& chain,
                      const std::vector<EndpointInfo>& endpoints) {
    const std::string& spn = sp.name;
    if (sp.affinity)
      for (const auto& ep : endpoints) {
        const std::string sep = kube::sep_chain(spn, sp.protocol, ep.str());
        nat("-A " + chain + " -m comment --comment " + quoted(spn + " -> " + ep.str()) + " -m recent --name " +
            sep + " --rcheck --seconds " + std::to_string(sp.affinity_timeout) + " --reap -j " + sep);
      }
    const int n = int(endpoints.size());
    for (int i = 0; i < n; ++i) {
      const auto& ep = endpoints[i];
      std::string l = "-A " + chain + " -m comment --comment " + quoted(spn + " -> " + ep.str());
      if (i < n - 1) l += " -m statistic --mode random --probability " + kube::probability(n - i);
      nat(l + " -j " + kube::sep_chain(spn, sp.protocol, ep.str()));
    }
  }

  const ProxyOptions& o_;
  const Node& node_;
  bool nfacct_;
  std::string mark_;
  NodePortAddrs npa_;
  bool localhost_node_ports_ = false;
  std::string pod_cidr_;
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

std::string KubeIptablesGenerator::restore_input(const Cluster& cluster, const std::string& node) const {
  Tables t = Writer(cluster, kube::node_or_throw(cluster, node), options_.nfacct).write(cluster);
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

RuleSet KubeIptablesGenerator::generate(const Cluster& cluster, const std::string& node) const {
  RuleSet rs;
  rs.backend = RuleBackend::IptablesRestore;
  if (!options_.base_chain_jumps) {
    rs.text = restore_input(cluster, node);
    return rs;
  }
  Tables t = Writer(cluster, kube::node_or_throw(cluster, node), options_.nfacct).write(cluster);
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
  rs.text = std::move(out);
  return rs;
}

bool add_kube_proxy_jumps(const netns::Namespace& node, const RuleSet& rules, const InstallOptions& options) {
  if (rules.backend != RuleBackend::IptablesRestore) return false;
  static const std::regex declares_services(R"((^|\n):KUBE-SERVICES )");
  static const std::regex has_jump(R"((^|\n)-A (PREROUTING|OUTPUT) [^\n]*-j KUBE-SERVICES)");
  if (!std::regex_search(rules.text, declares_services) || std::regex_search(rules.text, has_jump)) return false;
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
  install_rules(node, RuleSet{RuleBackend::IptablesRestore, jumps, "kube-proxy's base-chain jumps", {}}, options,
                /*noflush=*/true);
  return true;
}

}  // namespace harness
