#include "harness/generators/kube_hash.h"

#include <cstdio>
#include <cstring>

namespace harness::kube {

namespace {

constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void compress(uint32_t state[8], const uint8_t block[64]) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = (uint32_t(block[4 * i]) << 24) | (uint32_t(block[4 * i + 1]) << 16) |
           (uint32_t(block[4 * i + 2]) << 8) | uint32_t(block[4 * i + 3]);
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
  for (int i = 0; i < 64; ++i) {
    uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = h + S1 + ch + kRoundConstants[i] + w[i];
    uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = S0 + maj;
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  state[0] += a; state[1] += b; state[2] += c; state[3] += d;
  state[4] += e; state[5] += f; state[6] += g; state[7] += h;
}

}  // namespace

std::array<uint8_t, 32> sha256(std::string_view data) {
  uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  size_t full = n / 64;
  for (size_t i = 0; i < full; ++i) compress(state, p + 64 * i);
  // Final block(s): the rest, 0x80, zeros, 64-bit big-endian bit length.
  uint8_t tail[128] = {};
  size_t rest = n - 64 * full;
  std::memcpy(tail, p + 64 * full, rest);
  tail[rest] = 0x80;
  size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
  uint64_t bits = uint64_t(n) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 1 - i] = uint8_t(bits >> (8 * i));
  for (size_t off = 0; off < tail_len; off += 64) compress(state, tail + off);
  std::array<uint8_t, 32> out{};
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = uint8_t(state[i] >> 24);
    out[4 * i + 1] = uint8_t(state[i] >> 16);
    out[4 * i + 2] = uint8_t(state[i] >> 8);
    out[4 * i + 3] = uint8_t(state[i]);
  }
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

std::string nft_service_base(const std::string& ns, const std::string& name,
                             const std::string& protocol, const std::string& port_name) {
  return nft_hash_and_truncate(ns + "/" + name + "/" + protocol + "/" + port_name);
}

std::string nft_endpoint_base(const std::string& ns, const std::string& name,
                              const std::string& protocol, const std::string& port_name,
                              const std::string& endpoint_ip, uint16_t endpoint_port) {
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
