// A small cluster for the API server tests: two nodes, a NodePort Service
// with a named port and three endpoints in different states, a headless
// Service, and helpers to change it.
#pragma once

#include <string>

#include "harness/model/model.h"

namespace kpath_test {

using harness::Cluster;
using kpath::Cidr;
using kpath::Ip;

inline harness::Endpoint endpoint(const std::string& ip, const std::string& node, const std::string& pod,
                                  bool ready = true, bool terminating = false) {
  harness::Endpoint e;
  e.addresses = {Ip::from(ip)};
  e.node_name = node;
  e.pod_name = pod;
  e.ready = ready;
  e.serving = ready || terminating;
  e.terminating = terminating;
  return e;
}

inline harness::Service web_service() {
  harness::Service s;
  s.ns = "default";
  s.name = "web";
  s.type = harness::ServiceType::NodePort;
  s.cluster_ip = Ip::from("10.96.0.10");
  s.selector = {{"app", "web"}};
  s.ports = {{"http", harness::Protocol::TCP, 80, 0, "http-alt", 30080}};
  return s;
}

inline Cluster small_cluster() {
  Cluster c;
  c.pod_cidr = Cidr::from("10.32.0.0/12");
  c.service_cidr = Cidr::from("10.96.0.0/12");
  for (int i = 1; i <= 2; ++i) {
    harness::Node n;
    n.name = "node-" + std::to_string(i);
    n.ips = {Ip::from("192.168.100." + std::to_string(i))};
    n.pod_cidr = Cidr::from("10.32." + std::to_string(i) + ".0/24");
    c.nodes.push_back(n);
  }
  c.services.push_back(web_service());
  harness::EndpointSlice sl;
  sl.ns = "default";
  sl.name = "web-abc12";
  sl.service = "web";
  sl.ports = {{"http", harness::Protocol::TCP, 8080}};
  sl.endpoints = {endpoint("10.32.1.2", "node-1", "web-1"), endpoint("10.32.2.2", "node-2", "web-2", false),
                  endpoint("10.32.2.3", "node-2", "web-3", false, true)};
  sl.endpoints[0].zone = "zone-a";
  c.slices.push_back(sl);
  harness::Service headless;
  headless.ns = "db";
  headless.name = "db";
  headless.ports = {{"", harness::Protocol::TCP, 5432, 5432, "", 0}};
  c.services.push_back(headless);
  return c;
}

}  // namespace kpath_test
