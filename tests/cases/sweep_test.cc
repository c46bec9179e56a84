// Sweep expectations as the loader reads them, and the front doors they cover.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/error.h"
#include "harness/cases/case_loader.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;

std::string case_text(const std::string& expectation) {
  return R"(apiVersion: kpath/v1
kind: Case
name: sweep
cluster:
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  nodePortRange: 20000-20100
  nodes:
    - {name: n1, ip: 192.168.10.1, pods: [{name: web, ip: 10.244.0.10, labels: {app: web}, listen: [{port: 80}]}]}
    - {name: n2, ip: 192.168.10.2}
  externals:
    - {name: client, ip: 192.168.10.100}
objects:
  - {apiVersion: v1, kind: Service, metadata: {name: a, namespace: shop},
     spec: {type: NodePort, clusterIP: 10.96.0.10, selector: {app: web}, ports: [{port: 80, nodePort: 20000}]}}
  - {apiVersion: v1, kind: Service, metadata: {name: b, namespace: shop},
     spec: {clusterIP: 10.96.0.11, selector: {app: web}, externalIPs: [192.168.10.50],
            ports: [{name: t, port: 80}, {name: u, port: 81, protocol: UDP}]}}
  - {apiVersion: v1, kind: Service, metadata: {name: c}, spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}}
expect:
)" + expectation;
}

std::string load_error(const std::string& expectation) {
  try {
    parse_case(case_text(expectation), "sweep.yaml");
  } catch (const kpath::Error& e) {
    return e.what();
  }
  return "(loaded)";
}

TEST(Sweep, EveryServiceEveryDoor) {
  Case c = parse_case(case_text("  - {from: client, sweep: {services: all}}\n"), "sweep.yaml");
  const Expectation& e = c.expect.at(0);
  ASSERT_TRUE(e.sweep);
  EXPECT_EQ(e.probes, 1);
  EXPECT_EQ(e.name, "client -> every front door");
  auto doors = sweep_doors(c.cluster, *e.sweep);
  // a: its ClusterIP and its nodePort on both nodes; b: two ClusterIP ports; c is headless.
  ASSERT_EQ(doors.size(), 5u);
  EXPECT_EQ(describe(doors[0]), "clusterIP 10.96.0.10:80/TCP of shop/a");
  EXPECT_EQ(describe(doors[1]), "nodePort 192.168.10.1:20000/TCP on n1 of shop/a");
  EXPECT_EQ(describe(doors[2]), "nodePort 192.168.10.2:20000/TCP on n2 of shop/a");
  EXPECT_EQ(describe(doors[4]), "clusterIP 10.96.0.11:81/UDP of shop/b:u");
}

TEST(Sweep, SelectsByNamespaceNameAndDoor) {
  Case c = parse_case(case_text("  - {from: web, probes: 3, sweep: {services: {namespace: shop, name: 'b|x'}, "
                                "doors: [externalIP, clusterIP]}}\n"),
                      "sweep.yaml");
  auto doors = sweep_doors(c.cluster, *c.expect.at(0).sweep);
  ASSERT_EQ(doors.size(), 4u);
  EXPECT_EQ(doors[0].door, FrontDoor::ExternalIP);
  EXPECT_EQ(doors[0].address, Ip::from("192.168.10.50"));
  EXPECT_EQ(c.expect.at(0).probes, 3);
}

TEST(Sweep, Errors) {
  EXPECT_THAT(load_error("  - {from: client, sweep: {services: {namespace: none}}}\n"),
              HasSubstr("sweep.yaml:21:27: the sweep selects no front door"));
  EXPECT_THAT(load_error("  - {from: client, sweep: {services: all, doors: [nodePort, nodePort]}}\n"),
              HasSubstr("front door 'nodePort' appears twice"));
  EXPECT_THAT(load_error("  - {from: client, sweep: {services: all, doors: [hostPort]}}\n"),
              HasSubstr("a front door in 'doors'"));
  EXPECT_THAT(load_error("  - {from: client, sweep: {services: {name: '(('}}}\n"),
              HasSubstr("'name' is not a regular expression"));
  EXPECT_THAT(load_error("  - {from: client, to: 'n1:80', sweep: {services: all}}\n"), HasSubstr("unknown key 'to'"));
  EXPECT_THAT(load_error("  - {from: n1/localhost, sweep: {services: all}}\n"), HasSubstr("not NODE/localhost"));
  // 5 doors x 1000 probes of 1.5 s each, 128 at a time: 40 rounds, 60 s; refused doors wait less.
  EXPECT_EQ(load_error("  - {from: client, probes: 1000, sweep: {services: all}}\n"), "(loaded)");
}

TEST(Sweep, UndefinedPortDoorIsOnePerProtocolAtAPortNoPortDefines) {
  Case c = parse_case(case_text("  - {from: client, result: refused, sweep: {services: {namespace: shop}, "
                                "doors: [clusterIPUndefinedPort]}}\n"),
                      "sweep.yaml");
  auto doors = sweep_doors(c.cluster, *c.expect.at(0).sweep);
  // a: TCP 80 -> 81; b defines TCP 80 and UDP 81, so both protocols take 82.
  ASSERT_EQ(doors.size(), 3u);
  EXPECT_EQ(describe(doors[0]), "clusterIPUndefinedPort 10.96.0.10:81/TCP of shop/a");
  EXPECT_EQ(describe(doors[1]), "clusterIPUndefinedPort 10.96.0.11:82/TCP of shop/b:t");
  EXPECT_EQ(describe(doors[2]), "clusterIPUndefinedPort 10.96.0.11:82/UDP of shop/b:u");
}

TEST(Sweep, JudgesBackendsAndSource) {
  Case c = parse_case(case_text(
                          "  - {from: client, probes: 50, backends: uniform, source: node, falseFailureRate: 1e-9, "
                          "sweep: {services: all}}\n"),
                      "sweep.yaml");
  const Expectation& e = c.expect.at(0);
  EXPECT_EQ(e.backends.kind, BackendExpectation::Kind::Uniform);
  EXPECT_EQ(e.source, SourceExpectation::Node);
  EXPECT_EQ(e.false_failure_rate, 1e-9);
}

TEST(Sweep, JudgedRepliesNeedDoorsThatAnswer) {
  EXPECT_THAT(load_error("  - {from: client, sweep: {services: all, doors: [clusterIPUndefinedPort]}}\n"),
              HasSubstr("which no endpoint may answer"));
  EXPECT_THAT(load_error("  - {from: client, result: refused, backends: uniform, sweep: {services: all}}\n"),
              HasSubstr("expects no connection (result refused/dropped/leaked) but judges backends or source"));
  EXPECT_THAT(load_error("  - {from: client, backends: sticky, sweep: {services: all}}\n"),
              HasSubstr("a sweep's 'backends'"));
  EXPECT_THAT(load_error("  - {from: client, falseFailureRate: 0.5, sweep: {services: all}}\n"),
              HasSubstr("'falseFailureRate' must be from 1e-15 to 0.01"));
}

TEST(Sweep, UniformRefusesAServiceWithSessionAffinity) {
  std::string text = case_text("  - {from: client, backends: uniform, sweep: {services: all}}\n");
  text.insert(text.find("expect:"),
              "  - {apiVersion: v1, kind: Service, metadata: {name: sticky}, spec: {clusterIP: 10.96.0.12, "
              "sessionAffinity: ClientIP, selector: {app: web}, ports: [{port: 80}]}}\n");
  try {
    parse_case(text, "sweep.yaml");
    FAIL() << "loaded";
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("Service 'default/sticky' has sessionAffinity ClientIP"));
  }
}

TEST(Sweep, BudgetCountsEveryDoor) {
  // Widen the range and add enough NodePort Services that 1000 probes per door cannot finish in 600 s.
  std::string many = case_text("  - {from: client, probes: 1000, sweep: {services: all}}\n");
  std::string objects;
  for (int i = 0; i < 60; ++i)
    objects += "  - {apiVersion: v1, kind: Service, metadata: {name: s" + std::to_string(i) +
               "}, spec: {type: NodePort, clusterIP: 10.96.1." + std::to_string(i + 1) +
               ", ports: [{port: 80, nodePort: " + std::to_string(20010 + i) + "}]}}\n";
  many.insert(many.find("expect:"), objects);
  try {
    parse_case(many, "sweep.yaml");
    FAIL() << "loaded";
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("185 front doors x 1000 probes"));
  }
}

}  // namespace
