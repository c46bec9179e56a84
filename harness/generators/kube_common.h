// What kube-proxy (both modes) derives from the model before writing rules:
// the service ports of one family it proxies, their endpoints as kube-proxy's
// EndpointSlice cache would list them, and the Cluster/Local categorisation
// of those endpoints for one node. Shared by the iptables and nftables
// generators.
#pragma once

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include "harness/model/model.h"

namespace harness::kube {

// The arguments of one rule line, one token each, as kube-proxy passes them
// to its LineBuffer.Write; str() joins them with single spaces. An empty
// token stands for "absent" and is skipped, so optional arguments can be
// written inline (`random_fully ? "--random-fully" : ""`).
class Args {
 public:
  Args& add(std::string_view token) {
    if (!token.empty()) tokens_.emplace_back(token);
    return *this;
  }
  Args& add(std::integral auto number) { return add(std::to_string(number)); }
  Args& add(const Args& more) {
    tokens_.insert(tokens_.end(), more.tokens_.begin(), more.tokens_.end());
    return *this;
  }
  std::string str() const;
  bool empty() const { return tokens_.empty(); }

 private:
  std::vector<std::string> tokens_;
};

// Args from a mixed list of strings, numbers and Args.
template <typename... Parts>
Args args(const Parts&... parts) {
  Args a;
  (a.add(parts), ...);
  return a;
}

// `"text"`: kube-proxy's comments that may hold spaces are written quoted.
std::string quoted(std::string_view text);

struct EndpointInfo {
  Ip ip;
  uint16_t port = 0;
  bool local = false;  // endpoint's node is the generating node
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  std::vector<std::string> zone_hints;  // the slice's hints.forZones
  std::string str() const;              // "10.0.0.1:80" ("[v6]:80")
};

struct ServicePortInfo {
  const Service* service = nullptr;
  const ServicePort* port = nullptr;
  std::string name;      // kube-proxy's ServicePortName string (service_port_name)
  std::string protocol;  // "tcp"
  Ip cluster_ip;
  std::vector<Ip> external_ips;
  std::vector<Ip> load_balancer_ips;
  // loadBalancerSourceRanges of this family (LoadBalancer type only); none when one of them is 0.0.0.0/0 (::/0).
  std::vector<Cidr> source_ranges;
  uint16_t node_port = 0;
  uint16_t health_check_node_port = 0;
  bool external_policy_local = false;
  bool internal_policy_local = false;
  bool affinity = false;
  int affinity_timeout = 10800;
  // The Service asks for topology-aware routing: trafficDistribution is set,
  // or the topology-mode (or older topology-aware-hints) annotation is Auto.
  bool topology_wanted = false;
  std::string node_zone;                // the generating node's zone label
  std::vector<EndpointInfo> endpoints;  // sorted by str(), deduplicated

  bool externally_accessible() const { return node_port != 0 || !load_balancer_ips.empty() || !external_ips.empty(); }
  bool uses_cluster_endpoints() const { return !internal_policy_local || externally_accessible(); }
  bool uses_local_endpoints() const {
    return internal_policy_local || (external_policy_local && externally_accessible());
  }
};

struct Categorized {
  std::vector<EndpointInfo> cluster;
  std::vector<EndpointInfo> local;
  std::vector<EndpointInfo> all_reachable;
  bool has_any = false;
};

// Where a service port's internal (ClusterIP) and external (NodePort, external
// and LB IP) traffic goes, as both proxy modes decide it: the cluster-wide
// chain, or the node-local one under a Local traffic policy; `has_*` is false
// when that policy leaves no endpoint to go to (the traffic is dropped, or
// rejected when the Service has no endpoints at all).
struct PolicyChains {
  std::string internal;
  std::string external;
  bool has_internal = false;
  bool has_external = false;
};
PolicyChains policy_chains(const ServicePortInfo& sp, const Categorized& cat, const std::string& cluster_chain,
                           const std::string& local_chain);

// kube-proxy's ServicePortName string, the input of its iptables chain hashes
// and the text of its comments: "ns/name:port", and for an unnamed port
// "ns/name" since 1.19 (kubernetes PR 90031), "ns/name:" before.
enum class PortNames { Current, Pre119 };
std::string service_port_name(const Service& svc, const ServicePort& port, PortNames style);

// The service ports the proxier of one family (AF_INET, AF_INET6) would
// proxy on node `node_name`, sorted by Service key then port order
// (kube-proxy's map order is random; its tests sort): each with that family's
// ClusterIP, external and LB IPs, source ranges and endpoints (from the slices
// of that addressType). Headless Services and Services without a ClusterIP
// of the family are skipped.
std::vector<ServicePortInfo> service_ports(const Cluster& cluster, const std::string& node_name,
                                           PortNames style = PortNames::Current, int family = AF_INET);

// kube-proxy's CategorizeEndpoints, as of 1.31-1.32 (topology hints included).
Categorized categorize(const ServicePortInfo& sp);

// kube-proxy 1.31-1.32's canUseTopology: the Service asks for it, every ready
// endpoint has a zone hint, the node has a zone and some ready endpoint is
// hinted for it. Else every endpoint is used (the fallback).
bool uses_zone_hints(const ServicePortInfo& sp);

// The generating node, or throws kpath::Error.
const Node& node_or_throw(const Cluster& cluster, const std::string& node_name);
// The node's first IPv4 address (nullopt when it has none).
std::optional<Ip> primary_ipv4(const Node& node);
// The node's first address of `family` (nullopt when it has none).
std::optional<Ip> primary_ip(const Node& node, int family);

// kube-proxy's LocalTrafficDetector for one family's proxier on one node:
// the matches for traffic from a local pod and for the rest, in iptables and
// nft words. All empty when there is no way to tell (no clusterCIDR).
struct LocalDetector {
  Args if_local, if_not_local;          // "-s CIDR", "! -s CIDR"; "-i veth+", "! -i veth+"
  Args nft_if_local, nft_if_not_local;  // "ip saddr CIDR", "ip saddr != CIDR"; iifname
  bool implemented() const { return !if_local.empty(); }
};
LocalDetector local_detector(const ProxyOptions& options, const Node& node, int family);

// The masquerade mark, "0x4000" for bit 14.
std::string masquerade_mark(const ProxyOptions& options);

}  // namespace harness::kube
