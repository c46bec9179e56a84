// Test inputs as harness::Cluster values: the input of kube-proxy's
// TestOverallIPTablesRules / TestOverallNFTablesRules (see
// shared/reference/kube-proxy/README.md) and the seed NodePort Service.
#pragma once

#include <string>
#include <vector>

#include "harness/model/model.h"

namespace kpath_test {

// Node "test-node" (192.168.0.2), services ns1/svc1 .. ns6/svc6. ProxyOptions:
// cluster_cidr 10.0.0.0/8, everything else default (iptables: every local
// address takes NodePorts, localhost NodePorts on). The nftables golden sets
// node_port_addresses = {192.168.0.2/32} on top.
harness::Cluster kube_proxy_reference_cluster();

// The seed: default/webapp1-nodeport-svc on node "master" (192.168.100.1).
harness::Cluster seed_cluster();

// Nodes "n1" (10.1.0.1 and 172.16.0.1) and "n2" (10.1.0.2); a NodePort Service
// web/api, port "http" 80 -> 8080, nodePort 30080, ClusterIP 10.96.0.10, no
// endpoints yet; pod CIDR 10.244.0.0/16 as the local-traffic detector.
harness::Cluster small_cluster();

// Small builders for unit tests.
harness::Endpoint endpoint(const std::string& ip, const std::string& node, bool ready = true, bool serving = true,
                           bool terminating = false);
harness::EndpointSlice slice(const std::string& ns, const std::string& service,
                             std::vector<harness::EndpointPort> ports, std::vector<harness::Endpoint> endpoints);

// Reads a file or fails the test (returns "").
std::string read_file(const std::string& path);

}  // namespace kpath_test
