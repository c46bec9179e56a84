// Builds a case's cluster out of network namespaces, all held by fd:
//
//   fabric ns: bridge "fabric" ── one port per node and external client
//   node ns:   eth0 on the fabric (node IPs /32), one veth per local pod,
//              pod /32 routes, ip_forward=1, proxy ARP toward pods
//   pod ns:    eth0 (pod IPs /32), default route via 169.254.1.1 (Calico-style)
//   external:  eth0 on the fabric, routes to nodes and to Service addresses
//   sink ns:   eth0 on the fabric, owning (AnyIP) every IPv4 and IPv6 address
//              nobody else has: what a node sends out un-NATed lands there
//              (IPv4 by ARP; IPv6 as the nodes' gateway, fe80::5)
//
// Destroying the Topology closes every fd; the kernel then removes the
// namespaces and their veths. Nothing is created in the root namespace.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/model/model.h"
#include "netns/namespace.h"
#include "netns/pins.h"

namespace harness {

// Loopback up, no ICMP rate limit, no IPv6 DAD: what every kpath namespace gets.
void prepare_namespace(const netns::Namespace& ns);

class Topology {
 public:
  // Builds every namespace of the cluster. Throws kpath::Error on any failure;
  // what was built so far is released with the exception.
  static Topology build(const Cluster& cluster);

  Topology(Topology&&) = default;
  Topology& operator=(Topology&&) = default;

  // The namespace of a node, pod or external client, by name.
  const netns::Namespace& ns(const std::string& name) const;
  bool has(const std::string& name) const { return namespaces_.count(name) != 0; }
  const netns::Namespace& fabric() const { return fabric_; }
  // The upstream stand-in: a node's default route reaches it for every
  // address no node, pod or external client holds (Service addresses the
  // rules did not translate, unallocated ClusterIPs). Its listeners answer as
  // kSinkBackend, so un-NATed traffic shows as a leak, not as silence.
  const netns::Namespace& sink() const { return sink_; }

  // Pins every namespace as netns::pin_name(prefix, name) with a marker naming
  // this process (for --keep); returns the pins made, fabric first.
  std::vector<netns::PinnedNamespace> pin(const std::string& prefix, const netns::PinDirs& dirs = {}) const;

  // Lets pod or external client `client` reach node `node`'s loopback (`to:
  // NODE/localhost`), changing the client's own namespace only: 127.0.0.1 is
  // routed through the node (a policy rule ahead of the local table, which
  // moves from priority 0 to 100), and its eth0 may send to and accept from
  // 127.0.0.0/8 (route_localnet). Again for the same node: no change; for
  // another node: the route moves there.
  void route_loopback_through(const Cluster& cluster, const std::string& client, const std::string& node) const;

  // The link-local gateway pods route through (the node answers it by proxy ARP).
  static constexpr const char* kPodGateway = "169.254.1.1";
  static constexpr const char* kPodGateway6 = "fe80::1";  // IPv6 pods' gateway, link-local

 private:
  Topology() = default;
  netns::Namespace fabric_;
  netns::Namespace sink_;
  std::map<std::string, netns::Namespace> namespaces_;
  std::vector<std::string> order_;
};

}  // namespace harness
