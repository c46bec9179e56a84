#include "harness/generators/kube_hash.h"

#include <openssl/evp.h>

#include <cstdio>

#include "base/error.h"

namespace harness::kube {

std::array<uint8_t, 32> sha256(std::string_view data) {
  std::array<uint8_t, 32> out{};
  unsigned int size = 0;
  // Fails only when libcrypto cannot allocate or offers no SHA-256 at all.
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 || size != out.size())
    throw kpath::Error("SHA-256: OpenSSL's EVP_Digest failed");
  return out;
}

std::string base32(const uint8_t* data, size_t size) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint64_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < size; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  while (out.size() % 8 != 0) out += '=';
  return out;
}

static std::string hash_prefix(const std::string& input, size_t len) {
  auto h = sha256(input);
  return base32(h.data(), h.size()).substr(0, len);
}

std::string port_proto_hash(const std::string& service_port_name, const std::string& protocol) {
  return hash_prefix(service_port_name + protocol, 16);
}

std::string svc_chain(const std::string& spn, const std::string& proto) {
  return "KUBE-SVC-" + port_proto_hash(spn, proto);
}
std::string svl_chain(const std::string& spn, const std::string& proto) {
  return "KUBE-SVL-" + port_proto_hash(spn, proto);
}
std::string ext_chain(const std::string& spn, const std::string& proto) {
  return "KUBE-EXT-" + port_proto_hash(spn, proto);
}
std::string fw_chain(const std::string& spn, const std::string& proto) {
  return "KUBE-FW-" + port_proto_hash(spn, proto);
}
std::string sep_chain(const std::string& spn, const std::string& proto, const std::string& endpoint) {
  return "KUBE-SEP-" + hash_prefix(spn + proto + endpoint, 16);
}

std::string nft_hash_and_truncate(const std::string& name) {
  // kube-proxy: chain names are at most 256 characters, prefixes at most 16.
  constexpr size_t kBaseMax = 256 - 16;
  std::string out = hash_prefix(name, 8) + "-" + name;
  if (out.size() > kBaseMax) out = out.substr(0, kBaseMax - 3) + "...";
  return out;
}

std::string nft_service_base(const std::string& ns, const std::string& name, const std::string& protocol,
                             const std::string& port_name) {
  return nft_hash_and_truncate(ns + "/" + name + "/" + protocol + "/" + port_name);
}

std::string nft_endpoint_base(const std::string& ns, const std::string& name, const std::string& protocol,
                              const std::string& port_name, const std::string& endpoint_ip, uint16_t endpoint_port) {
  std::string ip = endpoint_ip;
  for (char& c : ip)
    if (c == ':') c = '.';
  return nft_hash_and_truncate(ns + "/" + name + "/" + protocol + "/" + port_name + "__" + ip + "/" +
                               std::to_string(endpoint_port));
}

std::string probability(int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0.10f", 1.0 / double(n));
  return buf;
}

}  // namespace harness::kube
