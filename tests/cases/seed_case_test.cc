// The bundled seed case loads into the model the rest of kpath expects.
#include <gtest/gtest.h>

#include <algorithm>

#include "harness/cases/case_loader.h"

namespace {

const std::string kSeed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";
const std::string kCjc5b = "webapp1-nodeport-deployment-785989576b-cjc5b";
const std::string kTpfqr = "webapp1-nodeport-deployment-785989576b-tpfqr";

TEST(SeedCase, Topology) {
  harness::Case c = harness::load_case(kSeed);
  EXPECT_EQ(c.name, "seed-webapp1-nodeport");
  EXPECT_EQ(c.file, kSeed);
  ASSERT_EQ(c.cluster.nodes.size(), 1u);
  EXPECT_EQ(c.cluster.nodes[0].ips[0].str(), "192.168.100.1");
  ASSERT_EQ(c.cluster.pods.size(), 2u);
  const harness::Pod* p = c.cluster.pod(kCjc5b);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->node, "master");
  EXPECT_EQ(p->ips[0].str(), "10.32.0.3");
  EXPECT_EQ(p->labels.at("app"), "webapp1");
  EXPECT_EQ(p->where.file, kSeed);
  EXPECT_GT(p->where.line, 1);
  ASSERT_NE(c.cluster.external("client"), nullptr);
  EXPECT_EQ(c.cluster.pod_cidr.str(), "10.32.0.0/12");
  EXPECT_EQ(c.cluster.proxy.cluster_cidr, c.cluster.pod_cidr);
}

TEST(SeedCase, ServiceAndDerivedSlice) {
  harness::Case c = harness::load_case(kSeed);
  const harness::Service* s = c.cluster.service("default", "webapp1-nodeport-svc");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type, harness::ServiceType::NodePort);
  EXPECT_EQ(s->cluster_ip->str(), "10.103.188.73");
  ASSERT_EQ(s->ports.size(), 1u);
  EXPECT_EQ(s->ports[0].node_port, 30080);
  EXPECT_EQ(s->ports[0].target_port, 80);
  auto slices = c.cluster.slices_for(*s);
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0]->name, "webapp1-nodeport-svc-kpath");
  ASSERT_EQ(slices[0]->ports.size(), 1u);
  EXPECT_EQ(slices[0]->ports[0].port, 80);
  ASSERT_EQ(slices[0]->endpoints.size(), 2u);
  for (const auto& ep : slices[0]->endpoints) {
    EXPECT_EQ(ep.node_name, "master");
    EXPECT_TRUE(ep.ready && ep.serving && !ep.terminating);
    EXPECT_TRUE(ep.pod_name == kCjc5b || ep.pod_name == kTpfqr);
  }
}

TEST(SeedCase, Expectations) {
  harness::Case c = harness::load_case(kSeed);
  ASSERT_EQ(c.expect.size(), 4u);
  const auto& nodeport = c.expect[0];
  EXPECT_EQ(nodeport.from.kind, harness::Source::Kind::External);
  EXPECT_EQ(nodeport.from.name, "client");
  EXPECT_EQ(nodeport.to.kind, harness::Target::Kind::Node);
  EXPECT_EQ(nodeport.to.name, "master");
  EXPECT_EQ(nodeport.to.port, 30080);
  EXPECT_EQ(nodeport.probes, 2000);
  EXPECT_EQ(nodeport.backends.kind, harness::BackendExpectation::Kind::Uniform);
  EXPECT_EQ(nodeport.source, harness::SourceExpectation::Node);
  EXPECT_EQ(c.expect[1].to.kind, harness::Target::Kind::Service);
  EXPECT_EQ(c.expect[1].to.name, "default/webapp1-nodeport-svc");
  EXPECT_EQ(c.expect[1].backends.kind, harness::BackendExpectation::Kind::Uniform);
  EXPECT_EQ(c.expect[1].source, harness::SourceExpectation::Any);  // hairpin masquerades
  EXPECT_EQ(c.expect[1].probes, 400);
  EXPECT_EQ(c.expect[2].probes, 200);  // the default for reachable
  EXPECT_EQ(c.expect[2].to.address, kpath::Ip::from("10.103.188.73"));
  EXPECT_EQ(c.expect[3].result, harness::Verdict::Refused);
  EXPECT_EQ(c.expect[3].probes, 20);
  EXPECT_EQ(c.expect[3].to.port, 30081);
  EXPECT_EQ(c.expect[3].where.file, kSeed);
  EXPECT_GT(c.expect[3].where.line, c.expect[2].where.line);
}

TEST(FindCaseFiles, FindsBundledSuite) {
  auto files = harness::find_case_files({std::string(KPATH_SOURCE_DIR) + "/cases"});
  EXPECT_NE(std::find(files.begin(), files.end(), kSeed), files.end());
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end()));
  for (const auto& f : files) harness::load_case(f);  // every bundled case is valid
}

}  // namespace
