// Turns an expectation into a concrete flow (which namespace probes, from
// which address, to which address) and works out what kube-proxy promises for
// it: which Service port it hits and which endpoints may answer.
//
// This is the oracle the kernel's behaviour is judged against. Its endpoint
// choice is written here on purpose, apart from the generators' (kube_common):
// a mistake shared by both would pass unseen. Do not merge them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/model/model.h"

namespace harness {

struct Flow {
  std::string from_ns;       // namespace that probes (node, pod or external name)
  std::vector<Ip> from_ips;  // the prober's own addresses
  // `sources: N`: probe i leaves from sources[i % N] (also in from_ips).
  std::vector<Ip> sources;
  bool from_localhost = false;
  std::optional<Ip> from_address;  // NODE/ADDRESS: the node sends from that address
  Ip target;
  uint16_t port = 0;
  Protocol protocol = Protocol::TCP;
  // to: NODE/localhost from a pod or external client: the client must route
  // its 127.0.0.1 through this node (see prepare_loopback_route).
  std::string loopback_via;

  FlowKind kind = FlowKind::Direct;
  std::string service;       // "ns/name" of the Service the flow hits; empty: none
  std::string service_port;  // its port's name
  std::string via_node;      // the node that receives the traffic (NodePort/External)
  // Pods that may answer, with the share kube-proxy gives each (uniform).
  std::map<std::string, double> eligible;
  bool affinity = false;  // the Service keeps each client on one endpoint (ClientIP)
};

Flow resolve_flow(const Cluster& cluster, const Expectation& e);
// The flow through each of a sweep's front doors (sweep_doors), as
// resolve_flow would resolve an expectation to that door.
std::vector<Flow> sweep_flows(const Cluster& cluster, const Expectation& sweep, const std::vector<DoorTarget>& doors);

// What masquerade may turn a source into: each node's first IPv4 address (the
// fabric interface's primary one: inet_select_addr picks it, not a secondary
// address the node also holds) and every IPv6 address (source address
// selection may pick any of them).
std::vector<Ip> node_addresses(const Cluster& cluster);

}  // namespace harness
