#include "harness/generators/kube_hash.h"

#include <gtest/gtest.h>

namespace {

using namespace harness::kube;

std::string hex(const std::array<uint8_t, 32>& h) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t b : h) {
    s += d[b >> 4];
    s += d[b & 15];
  }
  return s;
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Lengths around the 55/56/64-byte padding boundaries.
  EXPECT_EQ(hex(sha256(std::string(55, 'a'))), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(hex(sha256(std::string(56, 'a'))), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(hex(sha256(std::string(64, 'a'))), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_EQ(hex(sha256(std::string(1000000, 'a'))), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Base32, Rfc4648Vectors) {
  auto b = [](const std::string& s) { return base32(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  EXPECT_EQ(b(""), "");
  EXPECT_EQ(b("f"), "MY======");
  EXPECT_EQ(b("fo"), "MZXQ====");
  EXPECT_EQ(b("foo"), "MZXW6===");
  EXPECT_EQ(b("foob"), "MZXW6YQ=");
  EXPECT_EQ(b("fooba"), "MZXW6YTB");
  EXPECT_EQ(b("foobar"), "MZXW6YTBOI======");
}

TEST(KubeHash, IptablesChainNames) {
  EXPECT_EQ(port_proto_hash("ns1/svc1:p80", "tcp"), "XPGD46QRK7WJZT7O");
  EXPECT_EQ(svc_chain("ns1/svc1:p80", "tcp"), "KUBE-SVC-XPGD46QRK7WJZT7O");
  EXPECT_EQ(svl_chain("ns1/svc1:p80", "tcp"), "KUBE-SVL-XPGD46QRK7WJZT7O");
  EXPECT_EQ(ext_chain("ns1/svc1:p80", "tcp"), "KUBE-EXT-XPGD46QRK7WJZT7O");
  EXPECT_EQ(fw_chain("ns1/svc1:p80", "tcp"), "KUBE-FW-XPGD46QRK7WJZT7O");
  // The seed Service's unnamed port as kube-proxy >= 1.19 spells it (a real
  // kube-proxy 1.20.2 wrote the first two chains) ...
  EXPECT_EQ(svc_chain("default/webapp1-nodeport-svc", "tcp"), "KUBE-SVC-X42AMYO3K4UIBY54");
  EXPECT_EQ(sep_chain("default/webapp1-nodeport-svc", "tcp", "10.32.0.3:80"), "KUBE-SEP-2TLLNKO2PCM76THV");
  EXPECT_EQ(sep_chain("default/webapp1-nodeport-svc", "tcp", "10.32.0.5:80"), "KUBE-SEP-S3F2XG3TQFIWHLAG");
  // ... and as before 1.19, with the colon: the names in cases/seed/'s 2019 dump.
  EXPECT_EQ(svc_chain("default/webapp1-nodeport-svc:", "tcp"), "KUBE-SVC-J2DWGRZTH4C2LPA4");
  EXPECT_EQ(sep_chain("default/webapp1-nodeport-svc:", "tcp", "10.32.0.3:80"), "KUBE-SEP-YLXG4RMKAICGY2B3");
  EXPECT_EQ(sep_chain("default/webapp1-nodeport-svc:", "tcp", "10.32.0.5:80"), "KUBE-SEP-4CGFRVESQ3AECDE7");
  // From kube-proxy's overall ruleset.
  EXPECT_EQ(sep_chain("ns1/svc1:p80", "tcp", "10.180.0.1:80"), "KUBE-SEP-SXIVWICOYRO3J4NJ");
  EXPECT_EQ(fw_chain("ns5/svc5:p80", "tcp"), "KUBE-FW-NUKIZ6OKUXPJNT4C");
}

TEST(KubeHash, NftablesChainNames) {
  EXPECT_EQ(nft_service_base("ns1", "svc1", "tcp", "p80"), "ULMVA6XW-ns1/svc1/tcp/p80");
  EXPECT_EQ(nft_service_base("ns2", "svc2", "tcp", "p80"), "42NFTM6N-ns2/svc2/tcp/p80");
  EXPECT_EQ(nft_service_base("ns5", "svc5", "tcp", "p80"), "HVFWP5L3-ns5/svc5/tcp/p80");
  EXPECT_EQ(nft_endpoint_base("ns1", "svc1", "tcp", "p80", "10.180.0.1", 80),
            "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80");
  EXPECT_EQ(nft_endpoint_base("ns4", "svc4", "tcp", "p80", "10.180.0.5", 80),
            "5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80");
  std::string long_name(300, 'x');
  std::string t = nft_hash_and_truncate(long_name);
  EXPECT_EQ(t.size(), 240u);
  EXPECT_EQ(t.substr(237), "...");
}

TEST(KubeHash, Probabilities) {
  EXPECT_EQ(probability(1), "1.0000000000");
  EXPECT_EQ(probability(2), "0.5000000000");
  EXPECT_EQ(probability(3), "0.3333333333");
  EXPECT_EQ(probability(4), "0.2500000000");
  EXPECT_EQ(probability(5), "0.2000000000");
  EXPECT_EQ(probability(6), "0.1666666667");
}

}  // namespace
