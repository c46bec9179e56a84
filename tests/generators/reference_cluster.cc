#include "tests/generators/reference_cluster.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace kpath_test {

using namespace harness;

Endpoint endpoint(const std::string& ip, const std::string& node, bool ready, bool serving, bool terminating) {
  Endpoint e;
  e.addresses = {Ip::from(ip)};
  e.node_name = node;
  e.ready = ready;
  e.serving = serving;
  e.terminating = terminating;
  return e;
}

EndpointSlice slice(const std::string& ns, const std::string& service, std::vector<EndpointPort> ports,
                    std::vector<Endpoint> endpoints) {
  EndpointSlice s;
  s.ns = ns;
  s.name = service + "-abcde";
  s.service = service;
  s.ports = std::move(ports);
  s.endpoints = std::move(endpoints);
  return s;
}

namespace {

Service svc(const std::string& ns, const std::string& name, ServiceType type, const std::string& cluster_ip,
            uint16_t node_port) {
  Service s;
  s.ns = ns;
  s.name = name;
  s.type = type;
  s.cluster_ip = Ip::from(cluster_ip);
  ServicePort p;
  p.name = "p80";
  p.protocol = Protocol::TCP;
  p.port = 80;
  p.target_port = 80;
  p.node_port = node_port;
  s.ports.push_back(p);
  return s;
}

EndpointSlice p80_slice(const std::string& ns, const std::string& name, std::vector<Endpoint> eps) {
  return slice(ns, name, {EndpointPort{"p80", Protocol::TCP, 80}}, std::move(eps));
}

}  // namespace

Cluster kube_proxy_reference_cluster() {
  Cluster c;
  c.pod_cidr = Cidr::from("10.0.0.0/8");
  c.service_cidr = Cidr::from("172.30.0.0/16");
  Node n;
  n.name = "test-node";
  n.ips = {Ip::from("192.168.0.2")};
  c.nodes.push_back(n);
  Node other;
  other.name = "other-node";
  other.ips = {Ip::from("192.168.0.3")};
  c.nodes.push_back(other);

  c.services.push_back(svc("ns1", "svc1", ServiceType::ClusterIP, "172.30.0.41", 0));
  c.slices.push_back(p80_slice("ns1", "svc1", {endpoint("10.180.0.1", "other-node")}));

  Service s2 = svc("ns2", "svc2", ServiceType::LoadBalancer, "172.30.0.42", 3001);
  s2.external_ips = {Ip::from("192.168.99.22")};
  s2.load_balancer_ips = {Ip::from("1.2.3.4")};
  s2.external_traffic_policy = TrafficPolicy::Local;
  s2.health_check_node_port = 30000;
  c.services.push_back(s2);
  c.slices.push_back(p80_slice("ns2", "svc2", {endpoint("10.180.0.2", "other-node")}));

  c.services.push_back(svc("ns3", "svc3", ServiceType::NodePort, "172.30.0.43", 3003));
  c.slices.push_back(p80_slice("ns3", "svc3", {endpoint("10.180.0.3", "other-node")}));

  Service s4 = svc("ns4", "svc4", ServiceType::NodePort, "172.30.0.44", 0);
  s4.external_ips = {Ip::from("192.168.99.33")};
  c.services.push_back(s4);
  c.slices.push_back(
      p80_slice("ns4", "svc4", {endpoint("10.180.0.4", "other-node"), endpoint("10.180.0.5", "test-node")}));

  Service s5 = svc("ns5", "svc5", ServiceType::LoadBalancer, "172.30.0.45", 3002);
  s5.load_balancer_ips = {Ip::from("5.6.7.8")};
  s5.load_balancer_source_ranges = {Cidr::from("203.0.113.0/25")};
  s5.session_affinity_client_ip = true;
  s5.session_affinity_timeout = 10800;
  c.services.push_back(s5);
  c.slices.push_back(p80_slice("ns5", "svc5", {endpoint("10.180.0.3", "other-node")}));

  c.services.push_back(svc("ns6", "svc6", ServiceType::ClusterIP, "172.30.0.46", 0));

  c.proxy.cluster_cidr = Cidr::from("10.0.0.0/8");
  return c;
}

Cluster seed_cluster() {
  Cluster c;
  c.pod_cidr = Cidr::from("10.32.0.0/12");
  c.service_cidr = Cidr::from("10.96.0.0/12");
  Node n;
  n.name = "master";
  n.ips = {Ip::from("192.168.100.1")};
  c.nodes.push_back(n);
  Service s;
  s.ns = "default";
  s.name = "webapp1-nodeport-svc";
  s.type = ServiceType::NodePort;
  s.cluster_ip = Ip::from("10.103.188.73");
  ServicePort p;
  p.protocol = Protocol::TCP;
  p.port = 80;
  p.target_port = 80;
  p.node_port = 30080;
  s.ports.push_back(p);
  c.services.push_back(s);
  c.slices.push_back(slice("default", "webapp1-nodeport-svc", {EndpointPort{"", Protocol::TCP, 80}},
                           {endpoint("10.32.0.3", "master"), endpoint("10.32.0.5", "master")}));
  c.proxy.cluster_cidr = Cidr::from("10.32.0.0/12");
  return c;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

harness::Cluster small_cluster() {
  using namespace harness;
  Cluster c;
  c.pod_cidr = Cidr::from("10.244.0.0/16");
  c.service_cidr = Cidr::from("10.96.0.0/12");
  Node n1;
  n1.name = "n1";
  n1.ips = {Ip::from("10.1.0.1"), Ip::from("172.16.0.1")};
  Node n2;
  n2.name = "n2";
  n2.ips = {Ip::from("10.1.0.2")};
  c.nodes = {n1, n2};
  Service s;
  s.ns = "web";
  s.name = "api";
  s.type = ServiceType::NodePort;
  s.cluster_ip = Ip::from("10.96.0.10");
  ServicePort p;
  p.name = "http";
  p.port = 80;
  p.target_port = 8080;
  p.node_port = 30080;
  s.ports.push_back(p);
  c.services.push_back(s);
  c.proxy.cluster_cidr = Cidr::from("10.244.0.0/16");
  return c;
}

}  // namespace kpath_test
