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

// The seed Service's port has no name. kube-proxy since 1.19 (kubernetes PR
// 90031) spells its ServicePortName "default/webapp1-nodeport-svc", without the
// colon it had before, and hashes that string + "tcp":
//   sha256("default/webapp1-nodeport-svctcp") = bf340661db572880...,
//   base32 -> X42AMYO3K4UIBY54...; with the endpoint appended,
//   "default/webapp1-nodeport-svctcp10.32.0.3:80" -> 2TLLNKO2PCM76THV...,
//   "default/webapp1-nodeport-svctcp10.32.0.5:80" -> S3F2XG3TQFIWHLAG...
// (computed independently of kpath, with Python's hashlib and base64). A real
// kube-proxy 1.20.2 wrote KUBE-SVC-X42AMYO3K4UIBY54 and KUBE-SEP-2TLLNKO2PCM76THV
// (10.32.0.3:80) for this Service. The rule shapes are today's kube-proxy's,
// as in overall-iptables.txt; no nfacct counters, no base-chain jumps.
const char* const kSeedCurrentNames = R"(*filter
:KUBE-SERVICES - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-PROXY-FIREWALL - [0:0]
:KUBE-FIREWALL - [0:0]
-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-EXT-X42AMYO3K4UIBY54 - [0:0]
:KUBE-SVC-X42AMYO3K4UIBY54 - [0:0]
:KUBE-SEP-2TLLNKO2PCM76THV - [0:0]
:KUBE-SEP-S3F2XG3TQFIWHLAG - [0:0]
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-SERVICES -m comment --comment "default/webapp1-nodeport-svc cluster IP" -m tcp -p tcp -d 10.103.188.73 --dport 80 -j KUBE-SVC-X42AMYO3K4UIBY54
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-NODEPORTS -m comment --comment default/webapp1-nodeport-svc -m tcp -p tcp --dport 30080 -j KUBE-EXT-X42AMYO3K4UIBY54
-A KUBE-EXT-X42AMYO3K4UIBY54 -m comment --comment "masquerade traffic for default/webapp1-nodeport-svc external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-X42AMYO3K4UIBY54 -j KUBE-SVC-X42AMYO3K4UIBY54
-A KUBE-SVC-X42AMYO3K4UIBY54 -m comment --comment "default/webapp1-nodeport-svc cluster IP" -m tcp -p tcp -d 10.103.188.73 --dport 80 ! -s 10.32.0.0/12 -j KUBE-MARK-MASQ
-A KUBE-SVC-X42AMYO3K4UIBY54 -m comment --comment "default/webapp1-nodeport-svc -> 10.32.0.3:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-2TLLNKO2PCM76THV
-A KUBE-SVC-X42AMYO3K4UIBY54 -m comment --comment "default/webapp1-nodeport-svc -> 10.32.0.5:80" -j KUBE-SEP-S3F2XG3TQFIWHLAG
-A KUBE-SEP-2TLLNKO2PCM76THV -m comment --comment default/webapp1-nodeport-svc -s 10.32.0.3 -j KUBE-MARK-MASQ
-A KUBE-SEP-2TLLNKO2PCM76THV -m comment --comment default/webapp1-nodeport-svc -m tcp -p tcp -j DNAT --to-destination 10.32.0.3:80
-A KUBE-SEP-S3F2XG3TQFIWHLAG -m comment --comment default/webapp1-nodeport-svc -s 10.32.0.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-S3F2XG3TQFIWHLAG -m comment --comment default/webapp1-nodeport-svc -m tcp -p tcp -j DNAT --to-destination 10.32.0.5:80
COMMIT
)";

TEST(Golden, IptablesUnnamedPortHasTodaysKubeProxyNames) {
  harness::KubeIptablesGenerator::Options opts;
  opts.base_chain_jumps = false;
  std::string text = harness::KubeIptablesGenerator(opts).generate(kpath_test::seed_cluster(), "master").text;
  auto expected = kpath_test::parse_iptables_restore(kSeedCurrentNames);
  auto actual = kpath_test::parse_iptables_restore(text);
  EXPECT_TRUE(expected == actual) << kpath_test::diff(expected, actual) << "\n--- generated:\n" << text;
}

}  // namespace
