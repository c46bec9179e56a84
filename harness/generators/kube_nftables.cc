#include "harness/generators/kube_nftables.h"

#include <vector>

#include <sys/socket.h>

#include "harness/generators/kube_common.h"
#include "harness/generators/kube_hash.h"

namespace harness {

namespace {

using kube::Args;
using kube::args;
using kube::Categorized;
using kube::EndpointInfo;
using kube::quoted;
using kube::ServicePortInfo;

const char* const kRejectChain = "reject-chain";
const char* const kMarkMasq = "mark-for-masquerade";

// `A , B , C`, nft's anonymous set and map syntax.
Args comma_list(const std::vector<Args>& items) {
  Args out;
  for (size_t i = 0; i < items.size(); ++i) out.add(i ? "," : "").add(items[i]);
  return out;
}

// One service port's chains and what its traffic policies decide, worked out
// before any of its rules is written (a view: `sp` must outlive it).
struct Plan {
  const ServicePortInfo& sp;
  Categorized cat;
  std::string cluster_chain, local_chain, ext_chain, fw_chain;
  kube::PolicyChains policy;
  bool uses_cluster_chain, uses_local_chain, uses_ext_chain, uses_fw_chain;
  // For traffic its policy leaves without an endpoint: reject when the
  // Service has none at all, drop when only local ones are missing.
  Args no_endpoints;
};

Plan plan(const ServicePortInfo& sp) {
  const std::string base = kube::nft_service_base(sp.service->ns, sp.service->name, sp.protocol, sp.port->name);
  Plan p{sp, kube::categorize(sp), "service-" + base, "local-" + base, "external-" + base, "firewall-" + base};
  const bool has_any = p.cat.has_any;
  p.policy = kube::policy_chains(sp, p.cat, p.cluster_chain, p.local_chain);
  p.uses_cluster_chain = !p.cat.cluster.empty() && sp.uses_cluster_endpoints();
  p.uses_local_chain = !p.cat.local.empty() && sp.uses_local_endpoints();
  p.uses_ext_chain = has_any && sp.externally_accessible();
  p.uses_fw_chain = !sp.load_balancer_ips.empty() && !sp.source_ranges.empty();
  p.no_endpoints = has_any ? args("drop") : args("goto", kRejectChain);
  return p;
}

// `IP . tcp . PORT`: the key of service-ips and the other address maps.
Args key(const ServicePortInfo& sp, const Ip& ip) { return args(ip.str(), ".", sp.protocol, ".", sp.port->port); }

std::string ep_base(const ServicePortInfo& sp, const EndpointInfo& ep) {
  return kube::nft_endpoint_base(sp.service->ns, sp.service->name, sp.protocol, sp.port->name, ep.ip.str(), ep.port);
}

// One proxier's table: kube-proxy runs one per family, `table ip kube-proxy`
// and `table ip6 kube-proxy`, alike but for the address words.
class Writer {
 public:
  Writer(const Cluster& cluster, const Node& node, int family)
      : cluster_(cluster),
        node_(node),
        o_(cluster.proxy),
        family_(family),
        ip_(family == AF_INET6 ? "ip6" : "ip"),
        addr_type_(family == AF_INET6 ? "ipv6_addr" : "ipv4_addr"),
        table_(ip_ + " kube-proxy"),
        no_localhost_(family == AF_INET6 ? "ip6 daddr != ::1" : "ip daddr != 127.0.0.0/8") {
    local_ = kube::local_detector(o_, node_, family);
    node_ip_ = kube::primary_ip(node_, family);
    mark_ = kube::masquerade_mark(o_);
    node_port_addresses();
  }

  std::string write(bool replace) {
    std::string out = args("add", "table", table_, "{", "comment", quoted("rules for kube-proxy"), ";", "}").str() +
                      "\n";
    // A re-sync, as kube-proxy's: every chain's rules and every map's
    // elements go, the affinity sets keep theirs (clients stay with their
    // endpoint). Chains and sets no longer used stay, empty and unreferenced
    // (kube-proxy deletes them on a later sync; a script cannot name them).
    if (replace) out += args("flush", "table", table_).str() + "\n";

    setup();
    for (const auto& sp : kube::service_ports(cluster_, node_.name, kube::PortNames::Current, family_)) service(sp);

    for (const auto& l : decls_) out += l + "\n";
    if (replace)
      for (const auto& l : flushes_) out += l + "\n";
    for (const auto& l : body_) out += l + "\n";
    return out;
  }

 private:
  template <typename... Parts>
  void decl(const Parts&... parts) {
    decls_.push_back(args("add", parts...).str());
  }
  void chain(const std::string& name, const std::string& spec = "") {
    decl("chain", table_, name, spec.empty() ? Args() : args("{", spec, ";", "}"));
  }
  // `add set|map ip kube-proxy NAME { type TYPE ; comment "TEXT" ; }`; its
  // elements are written anew at every sync.
  void typed(const char* kind, const char* name, const std::string& type, const std::string& comment) {
    decl(kind, table_, name, "{", "type", type, ";", "comment", quoted(comment), ";", "}");
    flushes_.push_back(args("flush", kind, table_, name).str());
  }
  template <typename... Parts>
  void rule(const std::string& chain, const Parts&... parts) {
    body_.push_back(args("add", "rule", table_, chain, parts...).str());
  }
  template <typename... Parts>
  void element(const char* set, const Parts&... parts) {
    body_.push_back(args("add", "element", table_, set, "{", parts..., "}").str());
  }

  void node_port_addresses() {
    std::vector<Cidr> cidrs;
    for (const auto& c : o_.node_port_addresses)
      if (c.ip().family() == family_) cidrs.push_back(c);
    if (o_.node_port_addresses_primary || cidrs.empty()) {
      if (node_ip_) node_port_ips_.push_back(*node_ip_);
      return;
    }
    for (const auto& c : cidrs)
      if (c.prefix_len() == 0) match_all_ = true;
    if (match_all_) return;
    for (const auto& ip : node_.ips) {
      if (ip.family() != family_ || ip.is_loopback()) continue;  // localhost NodePorts: not in nftables mode
      for (const auto& c : cidrs)
        if (c.contains(ip)) {
          node_port_ips_.push_back(ip);
          break;
        }
    }
  }

  void setup() {
    typed("set", "cluster-ips", addr_type_, "Active ClusterIPs");
    if (!match_all_) typed("set", "nodeport-ips", addr_type_, "IPs that accept NodePort traffic");
    const std::string addr_key = addr_type_ + " . inet_proto . inet_service : verdict";
    const std::string port_key = "inet_proto . inet_service : verdict";
    typed("map", "firewall-ips", addr_key, "destinations that are subject to LoadBalancerSourceRanges");
    typed("map", "no-endpoint-nodeports", port_key,
          "vmap to drop or reject packets to service nodeports with no endpoints");
    typed("map", "no-endpoint-services", addr_key, "vmap to drop or reject packets to services with no endpoints");
    typed("map", "service-ips", addr_key, "ClusterIP, ExternalIP and LoadBalancer IP traffic");
    typed("map", "service-nodeports", port_key, "NodePort traffic");

    // Base chains, hooked before DNAT for filtering on the original destination.
    chain("filter-prerouting-pre-dnat", "type filter hook prerouting priority -110");
    chain("filter-output-pre-dnat", "type filter hook output priority -110");
    chain("filter-forward", "type filter hook forward priority 0");
    chain("filter-input", "type filter hook input priority 0");
    chain("filter-output", "type filter hook output priority 0");
    chain("nat-output", "type nat hook output priority -100");
    chain("nat-postrouting", "type nat hook postrouting priority 100");
    chain("nat-prerouting", "type nat hook prerouting priority -100");
    for (const char* c : {"cluster-ips-check", "firewall-check", kMarkMasq, "masquerading", "nodeport-endpoints-check",
                          "services", "service-endpoints-check"})
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

    rule("cluster-ips-check", ip_, "daddr @cluster-ips reject comment",
         quoted("Reject traffic to invalid ports of ClusterIPs"));
    if (auto range = cluster_.service_cidr_of(family_))
      rule("cluster-ips-check", ip_, "daddr {", range->network().str(), "} drop comment",
           quoted("Drop traffic to unallocated ClusterIPs"));
    rule("firewall-check", ip_, "daddr . meta l4proto . th dport vmap @firewall-ips");
    rule(kMarkMasq, "mark set mark or", mark_);
    rule("masquerading", "mark and", mark_, "== 0 return");
    rule("masquerading", "mark set mark xor", mark_);
    rule("masquerading", "masquerade fully-random");
    rule(kRejectChain, "reject");
    rule("service-endpoints-check", ip_, "daddr . meta l4proto . th dport vmap @no-endpoint-services");
    rule("services", ip_, "daddr . meta l4proto . th dport vmap @service-ips");
    if (match_all_) {
      // kube-proxy serves no NodePort on localhost in nftables mode (nor on ::1 ever).
      rule("nodeport-endpoints-check", no_localhost_, "meta l4proto . th dport vmap @no-endpoint-nodeports");
      rule("services", "fib daddr type local", no_localhost_, "meta l4proto . th dport vmap @service-nodeports");
    } else {
      rule("nodeport-endpoints-check", ip_, "daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports");
      rule("services", ip_, "daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports");
      for (const auto& ip : node_port_ips_) element("nodeport-ips", ip.str());
    }
  }

  // One service port: its declarations, the map elements that catch its
  // destinations, then the rules of its own chains.
  void service(const ServicePortInfo& sp) {
    const Plan p = plan(sp);
    declare(p);
    cluster_ip_elements(p);
    for (const auto& ip : sp.external_ips) {
      if (p.cat.has_any) element("service-ips", key(sp, ip), ":", "goto", p.ext_chain);
      if (!p.policy.has_external) no_endpoint_element("no-endpoint-services", key(sp, ip), p);
    }
    load_balancer_elements(p);
    if (sp.node_port != 0) node_port_elements(p);
    if (p.policy.has_internal) cluster_ip_masquerade(p);
    if (p.uses_ext_chain) external_chain(p);
    if (p.uses_fw_chain) firewall_chain(p);
    if (p.uses_cluster_chain) endpoint_dispatch(sp, p.cluster_chain, p.cat.cluster);
    if (p.uses_local_chain) endpoint_dispatch(sp, p.local_chain, p.cat.local);
    for (const auto& ep : p.cat.all_reachable) endpoint_chain(sp, ep);
  }

  void declare(const Plan& p) {
    for (const auto& ep : p.cat.all_reachable) chain("endpoint-" + ep_base(p.sp, ep));
    if (p.uses_cluster_chain) chain(p.cluster_chain);
    if (p.uses_local_chain) chain(p.local_chain);
    if (p.uses_ext_chain) chain(p.ext_chain);
    if (p.uses_fw_chain) chain(p.fw_chain);
    if (!p.sp.affinity) return;
    const std::string timeout = std::to_string(p.sp.affinity_timeout) + "s";
    for (const auto& ep : p.cat.all_reachable)
      decl("set", table_, "affinity-" + ep_base(p.sp, ep), "{", "type", addr_type_, ";", "flags", "dynamic,timeout",
           ";", "timeout", timeout, ";", "}");
  }

  void no_endpoint_element(const char* map, const Args& key, const Plan& p) {
    element(map, key, "comment", quoted(p.sp.name), ":", p.no_endpoints);
  }

  void cluster_ip_elements(const Plan& p) {
    element("cluster-ips", p.sp.cluster_ip.str());
    if (p.policy.has_internal) element("service-ips", key(p.sp, p.sp.cluster_ip), ":", "goto", p.policy.internal);
    else no_endpoint_element("no-endpoint-services", key(p.sp, p.sp.cluster_ip), p);
  }

  // LoadBalancer IPs; with loadBalancerSourceRanges they pass the firewall chain first.
  void load_balancer_elements(const Plan& p) {
    for (const auto& ip : p.sp.load_balancer_ips) {
      if (p.cat.has_any) element("service-ips", key(p.sp, ip), ":", "goto", p.ext_chain);
      if (p.uses_fw_chain) element("firewall-ips", key(p.sp, ip), ":", "goto", p.fw_chain);
    }
    if (p.policy.has_external) return;
    for (const auto& ip : p.sp.load_balancer_ips) no_endpoint_element("no-endpoint-services", key(p.sp, ip), p);
  }

  void node_port_elements(const Plan& p) {
    const Args np = args(p.sp.protocol, ".", p.sp.node_port);
    if (p.cat.has_any) element("service-nodeports", np, ":", "goto", p.ext_chain);
    if (!p.policy.has_external) no_endpoint_element("no-endpoint-nodeports", np, p);
  }

  // Masquerade off-cluster traffic to the ClusterIP (all of it under masqueradeAll).
  void cluster_ip_masquerade(const Plan& p) {
    if (!o_.masquerade_all && !local_.implemented()) return;  // no way to tell off-cluster traffic
    rule(p.policy.internal, ip_, "daddr", p.sp.cluster_ip.str(), o_.masquerade_all ? Args() : local_.nft_if_not_local,
         "jump", kMarkMasq);
  }

  // Masquerade, except under a Local external policy, where only pod and
  // node-local sources are masqueraded or short-circuited to the cluster-wide chain.
  void external_chain(const Plan& p) {
    if (!p.sp.external_policy_local) {
      rule(p.ext_chain, "jump", kMarkMasq);
    } else {
      if (local_.implemented())
        rule(p.ext_chain, local_.nft_if_local, "goto", p.cluster_chain, "comment", quoted("short-circuit pod traffic"));
      rule(p.ext_chain, "fib", "saddr", "type", "local", "jump", kMarkMasq, "comment",
           quoted("masquerade local traffic"));
      rule(p.ext_chain, "fib", "saddr", "type", "local", "goto", p.cluster_chain, "comment",
           quoted("short-circuit local traffic"));
    }
    if (p.policy.has_external) rule(p.ext_chain, "goto", p.policy.external);
  }

  // loadBalancerSourceRanges: other sources are dropped (the node itself is
  // accepted when a range covers it, as LB IP hairpin traffic).
  void firewall_chain(const Plan& p) {
    std::vector<Args> sources;
    bool allow_from_node = false;
    for (const auto& cidr : p.sp.source_ranges) {
      sources.push_back(args(cidr.str()));
      if (node_ip_ && cidr.contains(*node_ip_)) allow_from_node = true;
    }
    if (allow_from_node)
      for (const auto& ip : p.sp.load_balancer_ips) sources.push_back(args(ip.str()));
    rule(p.fw_chain, ip_, "saddr", "!=", "{", comma_list(sources), "}", "drop");
  }

  // Session affinity first, then a random pick among the endpoints.
  void endpoint_dispatch(const ServicePortInfo& sp, const std::string& chain,
                         const std::vector<EndpointInfo>& endpoints) {
    if (sp.affinity)
      for (const auto& ep : endpoints) {
        const std::string eb = ep_base(sp, ep);
        rule(chain, ip_, "saddr", "@affinity-" + eb, "goto", "endpoint-" + eb);
      }
    std::vector<Args> vmap;
    for (size_t i = 0; i < endpoints.size(); ++i)
      vmap.push_back(args(i, ":", "goto", "endpoint-" + ep_base(sp, endpoints[i])));
    rule(chain, "numgen", "random", "mod", endpoints.size(), "vmap", "{", comma_list(vmap), "}");
  }

  // Mark hairpin traffic for masquerade, remember the client for affinity, DNAT.
  void endpoint_chain(const ServicePortInfo& sp, const EndpointInfo& ep) {
    const std::string eb = ep_base(sp, ep);
    const std::string chain = "endpoint-" + eb;
    rule(chain, ip_, "saddr", ep.ip.str(), "jump", kMarkMasq);
    if (sp.affinity) rule(chain, "update", "@affinity-" + eb, "{", ip_, "saddr", "}");
    rule(chain, "meta", "l4proto", sp.protocol, "dnat", "to", ep.str());
  }

  const Cluster& cluster_;
  const Node& node_;
  const ProxyOptions& o_;
  int family_;
  std::string ip_;         // "ip" or "ip6": the table family and the address match
  std::string addr_type_;  // "ipv4_addr" or "ipv6_addr"
  std::string table_;      // "ip kube-proxy"
  std::string no_localhost_;
  kube::LocalDetector local_;
  std::optional<Ip> node_ip_;
  std::string mark_;
  bool match_all_ = false;
  std::vector<Ip> node_port_ips_;
  std::vector<std::string> decls_;
  std::vector<std::string> flushes_;  // the typed sets' and maps' (not the affinity sets')
  std::vector<std::string> body_;
};

}  // namespace

RuleSet KubeNftablesGenerator::generate(const Cluster& cluster, const std::string& node) const {
  RuleSet rs;
  rs.backend = RuleBackend::Nft;
  const Node& n = kube::node_or_throw(cluster, node);
  // A table per family the cluster runs; an IPv4 cluster's output is as it was.
  for (int family : cluster.families()) rs.text += Writer(cluster, n, family).write(options_.replace_table);
  if (cluster.families().empty()) rs.text = Writer(cluster, n, AF_INET).write(options_.replace_table);
  return rs;
}

}  // namespace harness
