#include "harness/report/catalogue.h"

#include <fmt/format.h>

namespace harness {

namespace {

constexpr Behaviour kCatalogue[] = {
    {"B1", "NodePort from outside, externalTrafficPolicy Cluster",
     "outside client → node:nodePort, externalTrafficPolicy Cluster",
     "reachable; spread over every ready endpoint in the cluster; masqueraded"},
    {"B2", "pod or node to ClusterIP", "pod → ClusterIP",
     "reachable and spread; a pod's source is preserved, the node's is masqueraded"},
    {"B3", "hairpin: an endpoint to its own Service", "an endpoint → its own Service",
     "reachable even when it picks itself; masqueraded"},
    {"B4", "externalTrafficPolicy Local, local endpoints",
     "externalTrafficPolicy Local, endpoints on the receiving node", "only those endpoints; source preserved"},
    {"B5", "externalTrafficPolicy Local, no local endpoint",
     "externalTrafficPolicy Local, no endpoint on the receiving node",
     "outside clients dropped; pods and the node still reach the remote endpoints"},
    {"B6", "Service without endpoints", "a Service with no endpoints",
     "ClusterIP and NodePort refused, TCP and UDP; TCP by the REJECT rule's ICMP, not a RST from the node's stack"},
    {"B7", "internalTrafficPolicy Local", "internalTrafficPolicy Local",
     "ClusterIP traffic only to endpoints on the caller's node, dropped when there is none; NodePort unaffected"},
    {"B8", "terminating endpoints", "terminating endpoints",
     "ready ones first; serving terminating ones only when none is ready; never non-serving ones"},
    {"B9", "sessionAffinity ClientIP", "sessionAffinity ClientIP",
     "one client keeps its backend until timeoutSeconds pass without a connection; different clients still spread"},
    {"B10", "loadBalancerSourceRanges", "loadBalancerSourceRanges",
     "allowed sources reach the LB address, others are dropped on the node (not leaked un-NATed); the NodePort is not filtered"},
    {"B11", "nodePortAddresses", "nodePortAddresses",
     "only the listed node addresses accept NodePort traffic (nftables mode defaults to the primary address)"},
    {"B12", "localhost NodePort", "the node's 127.0.0.1:nodePort",
     "iptables mode: reachable, masqueraded (route_localnet); nftables mode: refused by design"},
    {"B13", "health-check node port", "the health-check node port of an ETP Local load balancer",
     "accepted by the node's filter rules even under INPUT policy DROP (iptables mode); HTTP 200 with the local endpoint count, 503 without"},
    {"B14", "masquerade mark", "the masquerade mark 0x4000",
     "marked traffic is masqueraded (with random-fully: randomised source ports), unmarked traffic keeps its source"},
    {"B15", "conntrack INVALID drop", "conntrack INVALID packets in FORWARD", "dropped, not forwarded un-NATed"},
    {"B16", "endpoint probabilities", "n endpoints",
     "rule i matches with probability 1/(n−i), the last unconditionally: an even spread"},
    {"B17", "UDP endpoint removal and stale conntrack", "a UDP endpoint stops serving",
     "its conntrack entries are deleted, so a client that keeps its source port moves on"},
    {"B18", "endpoint change while traffic flows", "endpoints change during traffic",
     "rule updates are atomic: no new connection fails"},
    {"B19", "multi-node NodePort", "node A's NodePort, only endpoint on node B",
     "reachable across the fabric, masqueraded so replies come back through A"},
    {"B20", "nftables-only ClusterIP checks", "nftables mode: a ClusterIP's undefined port / an unallocated ClusterIP",
     "refused / dropped on the node (iptables mode: both leak un-NATed)"},
    {"B21", "FORWARD policy DROP on the node", "another component set FORWARD policy DROP",
     "NodePort traffic still forwarded (kube-proxy accepts marked and established flows)"},
};

}  // namespace

std::span<const Behaviour> catalogue() { return kCatalogue; }

std::string catalogue_markdown() {
  std::string out = "| # | flow | the kernel must show |\n|---|---|---|\n";
  for (const auto& b : kCatalogue) out += fmt::format("| {} | {} | {} |\n", b.id, b.flow, b.promise);
  return out;
}

}  // namespace harness
