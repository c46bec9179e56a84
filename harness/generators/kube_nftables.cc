#include "harness/generators/kube_nftables.h"

#include <vector>

#include "harness/generators/kube_common.h"
#include "harness/generators/kube_hash.h"

namespace harness {

namespace {

using kube::Categorized;
using kube::EndpointInfo;
using kube::ServicePortInfo;

const std::string kTable = "ip kube-proxy";
const char* const kRejectChain = "reject-chain";
const char* const kMarkMasq = "mark-for-masquerade";

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

class Writer {
 public:
  Writer(const Cluster& cluster, const Node& node) : cluster_(cluster), node_(node), o_(cluster.proxy) {
    if (o_.cluster_cidr && o_.cluster_cidr->ip().is_v4()) pod_cidr_ = o_.cluster_cidr->network().str();
    node_ip_ = kube::primary_ipv4(node_);
    mark_ = kube::masquerade_mark(o_);
    node_port_addresses();
  }

  std::string write(bool replace) {
    std::string out;
    const std::string table_line = "add table " + kTable + " { comment " + quoted("rules for kube-proxy") + " ; }";
    if (replace) {
      // Create-if-missing, delete, recreate: one transaction replaces the table.
      out += "add table " + kTable + "\n";
      out += "delete table " + kTable + "\n";
    }
    out += table_line + "\n";

    setup();
    for (const auto& sp : kube::service_ports(cluster_, node_.name)) service(sp);

    for (const auto& l : decls_) out += l + "\n";
    for (const auto& l : body_) out += l + "\n";
    return out;
  }

 private:
  void decl(const std::string& what) { decls_.push_back("add " + what); }
  void chain(const std::string& name, const std::string& spec = "") {
    decl("chain " + kTable + " " + name + (spec.empty() ? "" : " { " + spec + " ; }"));
  }
  void rule(const std::string& chain, const std::string& r) {
    body_.push_back("add rule " + kTable + " " + chain + " " + r);
  }
  void element(const std::string& set, const std::string& e) {
    body_.push_back("add element " + kTable + " " + set + " { " + e + " }");
  }

  void node_port_addresses() {
    std::vector<Cidr> cidrs;
    for (const auto& c : o_.node_port_addresses)
      if (c.ip().is_v4()) cidrs.push_back(c);
    if (o_.node_port_addresses_primary || cidrs.empty()) {
      if (node_ip_) node_port_ips_.push_back(*node_ip_);
      return;
    }
    for (const auto& c : cidrs)
      if (c.prefix_len() == 0) match_all_ = true;
    if (match_all_) return;
    for (const auto& ip : node_.ips) {
      if (!ip.is_v4() || ip.is_loopback()) continue;  // localhost NodePorts: not in nftables mode
      for (const auto& c : cidrs)
        if (c.contains(ip)) {
          node_port_ips_.push_back(ip);
          break;
        }
    }
  }

  void setup() {
    decl("set " + kTable + " cluster-ips { type ipv4_addr ; comment " + quoted("Active ClusterIPs") + " ; }");
    if (!match_all_)
      decl("set " + kTable + " nodeport-ips { type ipv4_addr ; comment " +
           quoted("IPs that accept NodePort traffic") + " ; }");
    const std::string addr_key = "ipv4_addr . inet_proto . inet_service : verdict";
    const std::string port_key = "inet_proto . inet_service : verdict";
    decl("map " + kTable + " firewall-ips { type " + addr_key + " ; comment " +
         quoted("destinations that are subject to LoadBalancerSourceRanges") + " ; }");
    decl("map " + kTable + " no-endpoint-nodeports { type " + port_key + " ; comment " +
         quoted("vmap to drop or reject packets to service nodeports with no endpoints") + " ; }");
    decl("map " + kTable + " no-endpoint-services { type " + addr_key + " ; comment " +
         quoted("vmap to drop or reject packets to services with no endpoints") + " ; }");
    decl("map " + kTable + " service-ips { type " + addr_key + " ; comment " +
         quoted("ClusterIP, ExternalIP and LoadBalancer IP traffic") + " ; }");
    decl("map " + kTable + " service-nodeports { type " + port_key + " ; comment " + quoted("NodePort traffic") +
         " ; }");

    // Base chains, hooked before DNAT for filtering on the original destination.
    chain("filter-prerouting-pre-dnat", "type filter hook prerouting priority -110");
    chain("filter-output-pre-dnat", "type filter hook output priority -110");
    chain("filter-forward", "type filter hook forward priority 0");
    chain("filter-input", "type filter hook input priority 0");
    chain("filter-output", "type filter hook output priority 0");
    chain("nat-output", "type nat hook output priority -100");
    chain("nat-postrouting", "type nat hook postrouting priority 100");
    chain("nat-prerouting", "type nat hook prerouting priority -100");
    for (const char* c : {"cluster-ips-check", "firewall-check", kMarkMasq, "masquerading",
                          "nodeport-endpoints-check", "services", "service-endpoints-check"})
      chain(c);
    chain(kRejectChain, "comment " + quoted("helper for @no-endpoint-services / @no-endpoint-nodeports"));

    rule("filter-prerouting-pre-dnat", "ct state new jump firewall-check");
    rule("filter-output-pre-dnat", "ct state new jump firewall-check");
    rule("filter-forward", "ct state new jump service-endpoints-check");
    rule("filter-forward", "ct state new jump cluster-ips-check");
    rule("filter-input", "ct state new jump nodeport-endpoints-check");
    rule("filter-input", "ct state new jump service-endpoints-check");
    rule("filter-output", "ct state new jump service-endpoints-check");
    rule("filter-output", "ct state new jump cluster-ips-check");
    rule("nat-output", "jump services");
    rule("nat-postrouting", "jump masquerading");
    rule("nat-prerouting", "jump services");

    rule("cluster-ips-check",
         "ip daddr @cluster-ips reject comment " + quoted("Reject traffic to invalid ports of ClusterIPs"));
    if (cluster_.service_cidr.ip().is_v4())
      rule("cluster-ips-check", "ip daddr { " + cluster_.service_cidr.network().str() + " } drop comment " +
                                    quoted("Drop traffic to unallocated ClusterIPs"));
    rule("firewall-check", "ip daddr . meta l4proto . th dport vmap @firewall-ips");
    rule(kMarkMasq, "mark set mark or " + mark_);
    rule("masquerading", "mark and " + mark_ + " == 0 return");
    rule("masquerading", "mark set mark xor " + mark_);
    rule("masquerading", "masquerade fully-random");
    rule(kRejectChain, "reject");
    rule("service-endpoints-check", "ip daddr . meta l4proto . th dport vmap @no-endpoint-services");
    rule("services", "ip daddr . meta l4proto . th dport vmap @service-ips");
    if (match_all_) {
      rule("nodeport-endpoints-check", "ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports");
      rule("services", "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports");
    } else {
      rule("nodeport-endpoints-check", "ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports");
      rule("services", "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports");
      for (const auto& ip : node_port_ips_) element("nodeport-ips", ip.str());
    }
  }

  std::string ep_base(const ServicePortInfo& sp, const EndpointInfo& ep) const {
    return kube::nft_endpoint_base(sp.service->ns, sp.service->name, sp.protocol, sp.port->name, ep.ip.str(),
                                   ep.port);
  }

  void service(const ServicePortInfo& sp) {
    const std::string& proto = sp.protocol;
    const std::string& spn = sp.name;
    const std::string base = kube::nft_service_base(sp.service->ns, sp.service->name, proto, sp.port->name);
    const std::string cluster_chain = "service-" + base;
    const std::string local_chain = "local-" + base;
    const std::string ext_chain = "external-" + base;
    const std::string fw_chain = "firewall-" + base;
    const Categorized cat = kube::categorize(sp);
    const bool has_endpoints = cat.has_any;

    for (const auto& ep : cat.all_reachable) chain("endpoint-" + ep_base(sp, ep));

    const bool uses_cluster_chain = !cat.cluster.empty() && sp.uses_cluster_endpoints();
    if (uses_cluster_chain) chain(cluster_chain);
    const bool uses_local_chain = !cat.local.empty() && sp.uses_local_endpoints();
    if (uses_local_chain) chain(local_chain);

    const auto [internal_chain, external_policy_chain, has_internal, has_external] =
        kube::policy_chains(sp, cat, cluster_chain, local_chain);
    const bool uses_ext_chain = has_endpoints && sp.externally_accessible();
    if (uses_ext_chain) chain(ext_chain);

    std::string internal_verdict, external_verdict;
    if (!has_endpoints) {
      internal_verdict = external_verdict = std::string("goto ") + kRejectChain;
    } else {
      if (!has_internal) internal_verdict = "drop";
      if (!has_external) external_verdict = "drop";
    }

    const std::string port = std::to_string(sp.port->port);
    auto key = [&](const Ip& ip) { return ip.str() + " . " + proto + " . " + port; };
    const std::string comment = " comment " + quoted(spn);

    // ClusterIP.
    element("cluster-ips", sp.cluster_ip.str());
    if (has_internal)
      element("service-ips", key(sp.cluster_ip) + " : goto " + internal_chain);
    else
      element("no-endpoint-services", key(sp.cluster_ip) + comment + " : " + internal_verdict);

    // externalIPs.
    for (const auto& ip : sp.external_ips) {
      if (has_endpoints) element("service-ips", key(ip) + " : goto " + ext_chain);
      if (!has_external) element("no-endpoint-services", key(ip) + comment + " : " + external_verdict);
    }

    // LoadBalancer IPs and loadBalancerSourceRanges.
    const bool uses_fw_chain = !sp.load_balancer_ips.empty() && !sp.source_ranges.empty();
    if (uses_fw_chain) chain(fw_chain);
    for (const auto& ip : sp.load_balancer_ips) {
      if (has_endpoints) element("service-ips", key(ip) + " : goto " + ext_chain);
      if (uses_fw_chain) element("firewall-ips", key(ip) + " : goto " + fw_chain);
    }
    if (!has_external)
      for (const auto& ip : sp.load_balancer_ips)
        element("no-endpoint-services", key(ip) + comment + " : " + external_verdict);

    // NodePort.
    if (sp.node_port != 0) {
      const std::string np = proto + " . " + std::to_string(sp.node_port);
      if (has_endpoints) element("service-nodeports", np + " : goto " + ext_chain);
      if (!has_external) element("no-endpoint-nodeports", np + comment + " : " + external_verdict);
    }

    // Masquerade off-cluster traffic to the ClusterIP.
    if (has_internal) {
      if (o_.masquerade_all)
        rule(internal_chain, "ip daddr " + sp.cluster_ip.str() + " jump " + kMarkMasq);
      else if (!pod_cidr_.empty())
        rule(internal_chain, "ip daddr " + sp.cluster_ip.str() + " ip saddr != " + pod_cidr_ + " jump " + kMarkMasq);
    }

    if (uses_ext_chain) {
      if (!sp.external_policy_local) {
        rule(ext_chain, std::string("jump ") + kMarkMasq);
      } else {
        if (!pod_cidr_.empty())
          rule(ext_chain, "ip saddr " + pod_cidr_ + " goto " + cluster_chain + " comment " +
                              quoted("short-circuit pod traffic"));
        rule(ext_chain, std::string("fib saddr type local jump ") + kMarkMasq + " comment " +
                            quoted("masquerade local traffic"));
        rule(ext_chain, "fib saddr type local goto " + cluster_chain + " comment " +
                            quoted("short-circuit local traffic"));
      }
      if (has_external) rule(ext_chain, "goto " + external_policy_chain);
    }

    if (uses_fw_chain) {
      std::string sources;
      bool allow_from_node = false;
      for (const auto& cidr : sp.source_ranges) {
        if (!sources.empty()) sources += " , ";
        sources += cidr.str();
        if (node_ip_ && cidr.contains(*node_ip_)) allow_from_node = true;
      }
      if (allow_from_node)
        for (const auto& ip : sp.load_balancer_ips) sources += " , " + ip.str();
      rule(fw_chain, "ip saddr != { " + sources + " } drop");
    }

    if (sp.affinity)
      for (const auto& ep : cat.all_reachable)
        decl("set " + kTable + " affinity-" + ep_base(sp, ep) +
             " { type ipv4_addr ; flags dynamic,timeout ; timeout " + std::to_string(sp.affinity_timeout) +
             "s ; }");

    if (uses_cluster_chain) endpoint_dispatch(sp, cluster_chain, cat.cluster);
    if (uses_local_chain) endpoint_dispatch(sp, local_chain, cat.local);

    for (const auto& ep : cat.all_reachable) {
      const std::string eb = ep_base(sp, ep);
      const std::string ec = "endpoint-" + eb;
      rule(ec, "ip saddr " + ep.ip.str() + " jump " + kMarkMasq);
      if (sp.affinity) rule(ec, "update @affinity-" + eb + " { ip saddr }");
      rule(ec, "meta l4proto " + proto + " dnat to " + ep.str());
    }
  }

  void endpoint_dispatch(const ServicePortInfo& sp, const std::string& chain,
                         const std::vector<EndpointInfo>& endpoints) {
    if (sp.affinity)
      for (const auto& ep : endpoints) {
        const std::string eb = ep_base(sp, ep);
        rule(chain, "ip saddr @affinity-" + eb + " goto endpoint-" + eb);
      }
    std::string vmap;
    for (size_t i = 0; i < endpoints.size(); ++i) {
      if (i) vmap += " , ";
      vmap += std::to_string(i) + " : goto endpoint-" + ep_base(sp, endpoints[i]);
    }
    rule(chain, "numgen random mod " + std::to_string(endpoints.size()) + " vmap { " + vmap + " }");
  }

  const Cluster& cluster_;
  const Node& node_;
  const ProxyOptions& o_;
  std::string pod_cidr_;
  std::optional<Ip> node_ip_;
  std::string mark_;
  bool match_all_ = false;
  std::vector<Ip> node_port_ips_;
  std::vector<std::string> decls_;
  std::vector<std::string> body_;
};

}  // namespace

RuleSet KubeNftablesGenerator::generate(const Cluster& cluster, const std::string& node) const {
  RuleSet rs;
  rs.backend = RuleBackend::Nft;
  rs.text = Writer(cluster, kube::node_or_throw(cluster, node)).write(options_.replace_table);
  return rs;
}

}  // namespace harness
