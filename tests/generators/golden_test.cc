// Generator output against the rulesets kube-proxy itself produced for the
// same input (tests/generators/golden/), compared as kube-proxy's tests do.
#include <gtest/gtest.h>

#include "harness/generators/kube_iptables.h"
#include "harness/generators/kube_nftables.h"
#include "tests/generators/reference_cluster.h"
#include "tests/generators/ruleset_compare.h"

namespace {

const std::string kReferenceDir = KPATH_TESTS_DIR "/generators/golden/";

TEST(Golden, IptablesMatchesKubeProxyOverallRules) {
  harness::Cluster cluster = kpath_test::kube_proxy_reference_cluster();
  // kube-proxy's test fake has its nfacct counters, so its output carries the
  // `-m nfacct` matches; the restore input has no base-chain jumps.
  harness::KubeIptablesGenerator::Options opts;
  opts.base_chain_jumps = false;
  opts.nfacct = true;
  harness::KubeIptablesGenerator gen(opts);
  harness::RuleSet rs = gen.generate(cluster, "test-node");
  EXPECT_EQ(rs.backend, harness::RuleBackend::IptablesRestore);
  EXPECT_EQ(rs.text, gen.restore_input(cluster, "test-node"));

  std::string expected_text = kpath_test::read_file(kReferenceDir + "overall-iptables.txt");
  ASSERT_FALSE(expected_text.empty());
  auto expected = kpath_test::parse_iptables_restore(expected_text);
  auto actual = kpath_test::parse_iptables_restore(rs.text);
  EXPECT_TRUE(expected == actual) << kpath_test::diff(expected, actual) << "\n--- generated:\n" << rs.text;
}

TEST(Golden, NftablesMatchesKubeProxyOverallRules) {
  harness::Cluster cluster = kpath_test::kube_proxy_reference_cluster();
  cluster.proxy.node_port_addresses = {harness::Cidr::from("192.168.0.2/32")};
  // Without the add+delete preamble: kube-proxy's dump lists the table once.
  harness::KubeNftablesGenerator::Options opts;
  opts.replace_table = false;
  harness::RuleSet rs = harness::KubeNftablesGenerator(opts).generate(cluster, "test-node");
  EXPECT_EQ(rs.backend, harness::RuleBackend::Nft);

  std::string expected_text = kpath_test::read_file(kReferenceDir + "overall-nft.txt");
  ASSERT_FALSE(expected_text.empty());
  auto expected = kpath_test::parse_nft(expected_text);
  auto actual = kpath_test::parse_nft(rs.text);
  EXPECT_TRUE(expected == actual) << kpath_test::diff(expected, actual) << "\n--- generated:\n" << rs.text;
}

}  // namespace
