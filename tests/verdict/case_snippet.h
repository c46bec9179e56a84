// Builds verdict inputs from case-file text, so a test row reads like a case:
// one cluster (three nodes, web pods on node-a and node-b, none on node-c),
// the row's objects and one expectation line.
#pragma once

#include <string>

#include "harness/cases/case_loader.h"

namespace kpath_test {

// node-a: web-a1, web-a2 (app: web), client-a; node-b: web-b (app: web),
// client-b; node-c: client-c only; external "client" (sourceRange
// 172.16.96.0/24, for `sources:`).
inline const std::string kCluster =
    "cluster:\n"
    "  podCIDR: 10.244.0.0/16\n"
    "  serviceCIDR: 10.96.0.0/16\n"
    "  nodes:\n"
    "    - name: node-a\n"
    "      ip: 192.168.10.1\n"
    "      podCIDR: 10.244.0.0/24\n"
    "      pods:\n"
    "        - {name: web-a1, ip: 10.244.0.10, labels: {app: web}, listen: [{port: 8080}, {port: 5353, protocol: UDP}]}\n"
    "        - {name: web-a2, ip: 10.244.0.11, labels: {app: web}, listen: [{port: 8080}, {port: 5353, protocol: UDP}]}\n"
    "        - {name: client-a, ip: 10.244.0.20}\n"
    "    - name: node-b\n"
    "      ips: [192.168.10.2, 192.168.10.12]\n"
    "      podCIDR: 10.244.1.0/24\n"
    "      pods:\n"
    "        - {name: web-b, ip: 10.244.1.10, labels: {app: web}, listen: [{port: 8080}, {port: 5353, protocol: UDP}]}\n"
    "        - {name: client-b, ip: 10.244.1.20}\n"
    "    - name: node-c\n"
    "      ip: 192.168.10.3\n"
    "      podCIDR: 10.244.2.0/24\n"
    "      pods:\n"
    "        - {name: client-c, ip: 10.244.2.20}\n"
    "  externals:\n"
    "    - {name: client, ip: 192.168.10.100, sourceRange: 172.16.96.0/24}\n";

// Service "default/web": ClusterIP 10.96.10.5, http 80/TCP -> 8080 (nodePort
// 30080) and dns 53/UDP -> 5353 (nodePort 30053); `spec` adds spec keys
// (six spaces of indent), e.g. "      externalTrafficPolicy: Local\n", or a
// status (four).
inline std::string web_service(const std::string& spec = "", const std::string& type = "NodePort") {
  return "  - apiVersion: v1\n"
         "    kind: Service\n"
         "    metadata: {name: web}\n"
         "    spec:\n"
         "      type: " +
         type +
         "\n"
         "      clusterIP: 10.96.10.5\n"
         "      selector: {app: web}\n"
         "      ports:\n"
         "        - {name: http, port: 80, targetPort: 8080, nodePort: 30080}\n"
         "        - {name: dns, port: 53, targetPort: 5353, nodePort: 30053, protocol: UDP}\n" +
         spec;
}

// A case holding kCluster, `objects` and one expectation: `expect` is the
// body of its flow-style map, e.g. "from: client, to: node-a:30080".
inline harness::Case make_case(const std::string& objects, const std::string& expect, const std::string& top = "") {
  return harness::parse_case("apiVersion: kpath/v1\nkind: Case\nname: t\n" + top + kCluster + "objects:\n" + objects +
                                 "expect:\n  - {" + expect + "}\n",
                             "t.yaml");
}

}  // namespace kpath_test
