// The cluster a case describes, as plain value types. The case loader builds
// it; generators, the topology builder and the assertions read it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/ip.h"
#include "harness/model/generator_spec.h"

namespace harness {

using kpath::Cidr;
using kpath::Ip;

enum class Protocol { TCP, UDP, SCTP };
std::string to_string(Protocol p);                             // "TCP"
std::string lower(Protocol p);                                 // "tcp", as iptables and nft spell it
std::optional<Protocol> parse_protocol(const std::string& s);  // case-insensitive

// Where in a file a thing was declared, so later errors can point at it.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// Something in a case file that loads but may not do what its author meant
// (docs/case-format.md, "Warnings"); `kpath run --strict` makes it an error.
struct Warning {
  SourceLocation where;
  std::string message;      // what is odd and what will happen
  std::string str() const;  // "file:line:column: warning: message"
};

struct ListenPort {
  uint16_t port = 0;
  Protocol protocol = Protocol::TCP;
  std::string name;  // optional container port name (for named targetPorts)
};

struct Pod {
  std::string name;
  std::string node;  // owning node's name
  std::vector<Ip> ips;
  std::map<std::string, std::string> labels;
  std::vector<ListenPort> listen;
  SourceLocation where;
};

struct Node {
  std::string name;
  // Another component on the node set the filter FORWARD policy to DROP
  // (kubernetes issue 39823); applied after the proxy's rules.
  bool forward_policy_drop = false;
  // A restrictive node: the filter INPUT policy is DROP, so only what the
  // proxy's rules accept reaches the node itself; applied after the proxy's rules.
  bool input_policy_drop = false;
  std::vector<Ip> ips;                        // first is the primary node IP on the fabric
  std::optional<Cidr> pod_cidr;               // this node's slice of the cluster pod CIDR (multi-node routing)
  std::map<std::string, std::string> labels;  // metadata.labels the case gives (topology.kubernetes.io/zone)
  SourceLocation where;

  // The topology.kubernetes.io/zone label; empty when the node has none.
  std::string zone() const;
};

struct External {
  std::string name;
  std::vector<Ip> ips;
  // sourceRange: a network the client also sends from (as many clients behind
  // one router would); an expectation's `sources: N` spreads its probes over
  // the first N addresses of it.
  std::optional<Cidr> source_range;
  SourceLocation where;

  // The first n addresses of source_range after its network address.
  std::vector<Ip> sources(int n) const;
};

struct ServicePort {
  std::string name;  // may be empty when the Service has one port
  Protocol protocol = Protocol::TCP;
  uint16_t port = 0;
  // targetPort: a number, or a container port name resolved per endpoint.
  uint16_t target_port = 0;
  std::string target_port_name;
  uint16_t node_port = 0;  // 0: none
  SourceLocation where;
};

enum class ServiceType { ClusterIP, NodePort, LoadBalancer };
enum class IpFamilyPolicy { SingleStack, PreferDualStack, RequireDualStack };
std::string to_string(IpFamilyPolicy p);  // "PreferDualStack", as spec.ipFamilyPolicy spells it
// Kubernetes' name of an address family (AF_INET "IPv4", AF_INET6 "IPv6"), as
// spec.ipFamilies and an EndpointSlice's addressType spell it.
std::string family_name(int family);
enum class TrafficPolicy { Cluster, Local };

struct Service {
  std::string ns;  // metadata.namespace (default "default")
  std::string name;
  ServiceType type = ServiceType::ClusterIP;
  std::optional<Ip> cluster_ip;  // nullopt: headless / None; else cluster_ips.front()
  // spec.clusterIPs: the primary family's first, at most one per family.
  std::vector<Ip> cluster_ips;
  IpFamilyPolicy ip_family_policy = IpFamilyPolicy::SingleStack;
  std::vector<Ip> external_ips;
  std::vector<Ip> load_balancer_ips;  // status.loadBalancer.ingress[].ip with ipMode VIP (the default)
  // Ingress IPs with ipMode Proxy: a proxying load balancer's own addresses,
  // which kube-proxy (1.30+) writes no rule for and kpath routes nowhere.
  std::vector<Ip> load_balancer_proxy_ips;
  std::vector<Cidr> load_balancer_source_ranges;
  std::map<std::string, std::string> selector;  // empty: slices are given explicitly
  std::vector<ServicePort> ports;
  TrafficPolicy external_traffic_policy = TrafficPolicy::Cluster;
  TrafficPolicy internal_traffic_policy = TrafficPolicy::Cluster;
  bool session_affinity_client_ip = false;
  int session_affinity_timeout = 10800;
  uint16_t health_check_node_port = 0;
  std::map<std::string, std::string> annotations;  // metadata.annotations (service.kubernetes.io/topology-mode)
  std::string traffic_distribution;                // spec.trafficDistribution: "" or "PreferClose"
  SourceLocation where;

  std::string key() const { return ns + "/" + name; }
  bool external() const { return type != ServiceType::ClusterIP; }
  // The ClusterIP of one family (AF_INET, AF_INET6); nullopt when the Service has none.
  std::optional<Ip> cluster_ip_of(int family) const;
  // spec.ipFamilies: the families of its ClusterIPs, primary first (AF_INET for a headless Service).
  std::vector<int> families() const;
};

struct Endpoint {
  std::vector<Ip> addresses;
  std::string node_name;
  std::string pod_name;  // targetRef; empty when not a pod of this case
  std::string zone;
  std::vector<std::string> zone_hints;  // hints.forZones[].name
  bool ready = true;
  bool serving = true;
  bool terminating = false;
};

struct EndpointPort {
  std::string name;
  Protocol protocol = Protocol::TCP;
  uint16_t port = 0;
  SourceLocation where;  // derived slices: the Service port's
};

struct EndpointSlice {
  std::string ns;
  std::string name;
  int family = 0;       // addressType: AF_INET or AF_INET6 (every endpoint address is of it)
  std::string service;  // kubernetes.io/service-name label
  std::vector<EndpointPort> ports;
  std::vector<Endpoint> endpoints;
  SourceLocation where;
};

// kube-proxy's --detect-local-mode: how its rules tell traffic from local
// pods ("not local" is masqueraded; "local" short-circuits externalTrafficPolicy
// Local): by the cluster's pod CIDR, by the node's own podCIDR, by the
// interface it came in on (a bridge, or a name prefix of the pods' veths).
enum class DetectLocalMode { ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix };

// Options of kube-proxy that change the rules it writes.
struct ProxyOptions {
  DetectLocalMode detect_local_mode = DetectLocalMode::ClusterCIDR;
  std::string detect_local_interface;  // BridgeInterface: the bridge; InterfaceNamePrefix: the prefix
  std::optional<Cidr> cluster_cidr;    // local-traffic detector; nullopt: none
  // The IPv6 proxier's detector in a dual-stack cluster (the IPv6 podCIDR);
  // cluster_cidr holds the IPv4 one there.
  std::optional<Cidr> cluster_cidr_v6;
  // The detector for one family's proxier.
  std::optional<Cidr> cluster_cidr_of(int family) const;
  bool masquerade_all = false;
  std::vector<Cidr> node_port_addresses;     // empty: iptables all local addrs; see primary
  bool node_port_addresses_primary = false;  // nftables' default "primary"
  bool localhost_node_ports = true;          // iptables mode only
  bool random_fully = false;
  int masquerade_bit = 14;  // mark 0x4000
};

// Finds elements of a vector by key in O(1) for Cluster's lookups, which large
// cases (10,000 Services) make per Service while the loader appends to the
// vectors. Positions are filed on first use and as the vector grows; a hit is
// checked against the element itself (a renamed element costs a rebuild), a
// miss is trusted unless the vector shrank. Copies start empty; lookups may
// come from several threads.
class KeyIndex {
 public:
  KeyIndex() = default;
  KeyIndex(const KeyIndex&) {}
  KeyIndex& operator=(const KeyIndex&) { return *this; }

  // The positions filed under `key`; `key_of(i)` gives element i's key, `n` the size.
  template <typename KeyOf>
  std::vector<size_t> find(const std::string& key, size_t n, KeyOf key_of) const;

 private:
  mutable std::mutex mutex_;
  mutable size_t size_ = 0;  // elements filed so far
  mutable std::unordered_map<std::string, std::vector<size_t>> positions_;
};

template <typename KeyOf>
std::vector<size_t> KeyIndex::find(const std::string& key, size_t n, KeyOf key_of) const {
  std::lock_guard lock(mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (n < size_ || attempt == 1) {
      positions_.clear();
      size_ = 0;
    }
    for (; size_ < n; ++size_) positions_[key_of(size_)].push_back(size_);
    auto it = positions_.find(key);
    if (it == positions_.end()) return {};
    bool valid = true;
    for (size_t i : it->second) valid = valid && key_of(i) == key;
    if (valid) return it->second;
  }
  return {};
}

struct Cluster {
  // The primary family's CIDRs; a dual-stack cluster has a second of the
  // other family in pod_cidrs/service_cidrs (primary first there too).
  Cidr pod_cidr;
  Cidr service_cidr;
  std::vector<Cidr> pod_cidrs;
  std::vector<Cidr> service_cidrs;
  uint16_t node_port_min = 30000;
  uint16_t node_port_max = 32767;
  std::vector<Node> nodes;
  std::vector<Pod> pods;
  std::vector<External> externals;
  std::vector<Service> services;
  std::vector<EndpointSlice> slices;  // explicit and derived, all of them
  ProxyOptions proxy;

  // The podCIDR / serviceCIDR of one family; nullopt when the cluster has none of it.
  std::optional<Cidr> pod_cidr_of(int family) const;
  std::optional<Cidr> service_cidr_of(int family) const;
  // The address families the cluster runs (AF_INET before AF_INET6), from its serviceCIDRs.
  std::vector<int> families() const;

  const Node* node(const std::string& name) const;
  const Pod* pod(const std::string& name) const;
  const External* external(const std::string& name) const;
  const Service* service(const std::string& ns, const std::string& name) const;
  const Service* service_named(const std::string& ns_slash_name) const;  // "ns/name"
  std::vector<const EndpointSlice*> slices_for(const Service& s) const;
  const EndpointSlice* slice(const std::string& ns, const std::string& name) const;
  // The address a target names (a Service: its ClusterIP); the target must
  // name something of this cluster (the loader checks).
  Ip address_of(const struct Target& t) const;
  // The node a source sends from; empty for an external client.
  std::string node_of(const struct Source& s) const;
  // The Service port that traffic to ip:port reaches, and through which front
  // door; nullopt when it reaches none. A loopback NodePort is the sender's
  // node's (`source_node`).
  std::optional<struct ServiceHit> service_port_at(const Ip& ip, uint16_t port, Protocol protocol,
                                                   const std::string& source_node) const;

 private:
  KeyIndex service_index_, slice_index_, slices_by_service_;
};

// How traffic enters a Service.
enum class FlowKind { ClusterIP, NodePort, External /* externalIP or LB IP */, Direct };
std::string to_string(FlowKind k);

struct ServiceHit {
  const Service* service = nullptr;
  const ServicePort* port = nullptr;
  FlowKind kind = FlowKind::Direct;
  // The node that receives the traffic: a NodePort's node, or for externalIPs
  // and LB IPs the first node (where the fabric routes them); empty for a ClusterIP.
  std::string via_node;
};

// Who sends a probe: a node (from the address its routes pick, from 127.0.0.1
// when `localhost`, or from one of its own addresses as `address`), a pod or
// an external client.
struct Source {
  enum class Kind { Node, Pod, External } kind = Kind::External;
  std::string name;
  bool localhost = false;
  std::optional<Ip> address;
  std::string str() const {  // as a case writes it
    return localhost ? name + "/localhost" : address ? name + "/" + address->str() : name;
  }
};

// Where a probe goes: a node's or pod's first address, a Service's ClusterIP,
// or an address as written.
struct Target {
  enum class Kind { Node, Pod, Service, Address } kind = Kind::Address;
  std::string name;  // node or pod name; "ns/name" of a Service; the address as written
  Ip address;        // Address only
  uint16_t port = 0;
  // `family:` of a node, pod or Service target with addresses of both
  // families (AF_INET, AF_INET6); 0: its first address (the primary family).
  int family = 0;
  // `to: NODE/localhost:PORT` from a pod or external client: the address is
  // 127.0.0.1 and the client routes it through this node (its own loopback
  // range moved behind a policy rule), so the node's stack or rules answer.
  std::string via_node;
  std::string str() const;  // "HOST:PORT", IPv6 as [ADDRESS]:PORT, "NODE/localhost:PORT"
};

// What a flow must show. One expectation is one row of the report. Leaked:
// the traffic left the node un-NATed (the topology's sink answered it).
enum class Verdict { Reachable, Refused, Dropped, Leaked };

// Who must refuse a refused TCP flow: a REJECT rule (an ICMP error) or the
// node's own stack (a RST: nothing listens); Any accepts both.
enum class RefusedBy { Any, Rule, Stack };

// Where a dropped flow must have been dropped: by the sending namespace's own
// output path (the send fails at once with EPERM) or somewhere after it (no
// answer: a timeout); Any accepts both.
enum class DroppedAt { Any, Output, Path };

struct BackendExpectation {
  enum class Kind { Any, Uniform, Weighted, OneOf, Sticky } kind = Kind::Any;
  std::map<std::string, double> weights;  // Weighted: pod name -> weight; OneOf: set of pods
};

enum class SourceExpectation { Any, Node, Client };

// A change to a pod's endpoint in every EndpointSlice that lists it; the
// generator's rules are then re-applied (atomically, as a proxy would).
enum class EndpointState { Ready, NotReady, Terminating, Deleted };
std::string to_string(EndpointState s);  // as a case writes it: "not-ready"
struct EndpointChange {
  std::string pod;
  EndpointState state = EndpointState::Ready;
};

// What one probe does. Connect: a TCP connection or UDP exchange through the
// flow. OutOfWindow: after connecting, the backend that answered sends a TCP
// segment far outside the connection's window; conntrack marks it INVALID, and
// the probe sees whether it reaches the client (it leaked, un-NATed) or not.
enum class ProbeKind { Connect, OutOfWindow };

// The ways into a Service a sweep probes: its ClusterIP ports, each nodePort
// on each node, its externalIPs and its load-balancer IPs. ClusterIPUndefinedPort
// is the door that must stay shut: the ClusterIP at a port no port of the
// Service defines, once per protocol the Service uses (kube-proxy's nftables
// mode rejects it; in iptables mode it goes on un-NATed).
enum class FrontDoor { ClusterIP, NodePort, ExternalIP, LoadBalancerIP, ClusterIPUndefinedPort };
std::string to_string(FrontDoor d);  // as a case writes it: "clusterIP"

// One expectation over every front door of many Services: each door is a flow
// of its own, probed `probes` times, judged alone (the verdict, and for a
// reply that an eligible endpoint of that Service answered) and counted.
struct Sweep {
  std::string ns;            // only Services of this namespace; empty: all
  std::string name_pattern;  // ECMAScript regex the whole Service name matches; empty: all
  std::vector<FrontDoor> doors{FrontDoor::ClusterIP, FrontDoor::NodePort};
  int shown = 10;  // failing doors named in the report; the rest are counted
};

struct Expectation {
  std::string name;
  std::optional<Sweep> sweep;  // set: `to` is unused, `probes` is per front door
  ProbeKind probe = ProbeKind::Connect;
  Source from;
  Target to;
  Protocol protocol = Protocol::TCP;
  int probes = 200;
  Verdict result = Verdict::Reachable;
  BackendExpectation backends;
  SourceExpectation source = SourceExpectation::Any;
  // Verdicts by design: keyed by a generator's name or by the kube-proxy mode
  // it implements ("iptables", "nftables").
  std::map<std::string, Verdict> except;
  double false_failure_rate = 1e-6;
  uint16_t source_port = 0;  // every probe from this one source port (one flow; UDP stale-conntrack cases)
  // sources: N: probe i leaves from the (i % N)-th of the external client's
  // source_range addresses, so a Service with session affinity sees N clients.
  int sources = 0;
  RefusedBy refused_by = RefusedBy::Any;
  // refusedAt: the node every refusal must come from, an ICMP error sent
  // from one of its addresses (a REJECT on the first node, not a later one's
  // rule or stack); empty: any sender.
  std::string refused_at;
  DroppedAt dropped_at = DroppedAt::Any;
  // An HTTP GET whose answers must all carry this status (health checks); 0: an echo probe.
  int http_status = 0;
  // sourcePorts: random: masqueraded replies must not keep the client's source port (random-fully).
  bool random_source_ports = false;
  // affinity: expires: probes go in pairs, the second half the Service's
  // affinity timeout after the first (same backend), each pair a timeout and
  // a second after the last (a fresh pick). affinity_timeout is the Service's.
  bool affinity_expires = false;
  int affinity_timeout = 0;
  std::vector<EndpointChange> before;  // applied before the probes
  std::vector<EndpointChange> during;  // applied while the probes run (a third of the way in)
  SourceLocation where;
};

// How kpath probes, for the loader's time budget (harness/run/runner.cc
// probes with the same numbers): up to kProbeConcurrency probes at once, each
// waiting at most probe_timeout() for its answer.
inline constexpr int kProbeConcurrency = 128;
std::chrono::milliseconds probe_timeout(Verdict want);
// The longest `e` can take: every probe waits out its timeout (the longest of
// its result and its `except` results). `sourcePort` and out-of-window probes
// run one at a time; an out-of-window probe may wait three timeouts
// (connect, the reply, the segment).
std::chrono::milliseconds worst_case_duration(const Expectation& e);
// `affinity: expires`: the wait inside a pair (half the timeout) and between
// pairs (the timeout and a second).
std::chrono::milliseconds affinity_hold(const Expectation& e);
std::chrono::milliseconds affinity_pause(const Expectation& e);

// A sweep's front doors: one flow target each (where and how to send), with
// the Service port it enters. Static: endpoint changes do not move doors.
struct DoorTarget {
  const Service* service = nullptr;
  const ServicePort* port = nullptr;
  FrontDoor door = FrontDoor::ClusterIP;
  Ip address;
  uint16_t dport = 0;    // the Service port, or the nodePort (ClusterIPUndefinedPort: a port it does not define)
  std::string via_node;  // NodePort: the node whose address is probed
};
std::vector<DoorTarget> sweep_doors(const Cluster& c, const Sweep& s);
// "ClusterIP 10.96.0.1:80/TCP of scale/svc-0" and the like.
std::string describe(const DoorTarget& d);

struct Case {
  std::string name;
  std::string behaviour;  // the catalogue entry it covers ("B1"), for the behaviour table
  std::string description;
  std::string file;
  std::optional<GeneratorSpec> generator;  // pinned ("ruleset:PATH"): the case runs only against it
  std::vector<GeneratorSpec> generators;   // generators the case runs against; empty: the built-ins
  // Proxy features the case needs (proxy_features.h), by name; a generator
  // declaring an older kube-proxy version skips it.
  std::vector<std::string> required_features;  // the `requires:` key
  Cluster cluster;
  std::vector<Expectation> expect;
  std::vector<Warning> warnings;  // in file order
};

}  // namespace harness
