#include "base/ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include "base/error.h"

namespace kpath {

std::optional<Ip> Ip::parse(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;  // inet_pton would stop there
  std::string s(text);
  Ip ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes_.data()) == 1) {
    ip.family_ = AF_INET;
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes_.data()) == 1) {
    ip.family_ = AF_INET6;
    return ip;
  }
  return std::nullopt;
}

Ip Ip::from(std::string_view text) {
  if (auto ip = parse(text)) return *ip;
  throw kpath::Error("bad IP address '" + std::string(text) + "'");
}

Ip Ip::v4(uint32_t host_order) {
  Ip ip;
  ip.family_ = AF_INET;
  uint32_t n = htonl(host_order);
  std::memcpy(ip.bytes_.data(), &n, 4);
  return ip;
}

Ip Ip::from_bytes(int family, std::span<const uint8_t> bytes) {
  const size_t want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
  if (want == 0) throw kpath::Error("IP address of unknown family " + std::to_string(family));
  if (bytes.size() != want)
    throw kpath::Error("IP address of " + std::to_string(bytes.size()) + " bytes, want " + std::to_string(want) +
                       (family == AF_INET ? " (IPv4)" : " (IPv6)"));
  Ip ip;
  ip.family_ = family;
  std::memcpy(ip.bytes_.data(), bytes.data(), want);
  return ip;
}

bool Ip::is_v4() const { return family_ == AF_INET; }
bool Ip::is_v6() const { return family_ == AF_INET6; }

uint32_t Ip::v4_host_order() const {
  uint32_t n = 0;
  std::memcpy(&n, bytes_.data(), 4);
  return ntohl(n);
}

bool Ip::is_loopback() const {
  if (is_v4()) return bytes_[0] == 127;
  static const std::array<uint8_t, 16> one{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return is_v6() && bytes_ == one;
}

std::string Ip::str() const {
  if (!valid()) return "<none>";
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_, bytes_.data(), buf, sizeof buf);
  return buf;
}

Cidr::Cidr(Ip base, int prefix_len) : ip_(base), len_(prefix_len) {}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  auto ip = Ip::parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  int len = ip->bits();
  if (slash != std::string_view::npos) {
    auto rest = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), len);
    if (ec != std::errc() || p != rest.data() + rest.size() || len < 0 || len > ip->bits()) return std::nullopt;
  }
  return Cidr(*ip, len);
}

Cidr Cidr::from(std::string_view text) {
  if (auto c = parse(text)) return *c;
  throw kpath::Error("bad CIDR '" + std::string(text) + "'");
}

bool Cidr::contains(const Ip& ip) const {
  if (ip.family() != ip_.family()) return false;
  int full = len_ / 8, rest = len_ % 8;
  if (std::memcmp(ip.data(), ip_.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip.data()[full] & mask) == (ip_.data()[full] & mask);
}

Cidr Cidr::network() const {
  std::array<uint8_t, 16> b{};
  std::memcpy(b.data(), ip_.data(), ip_.size());
  for (int i = 0; i < static_cast<int>(ip_.size()) * 8; ++i)
    if (i >= len_) b[i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
  return Cidr(Ip::from_bytes(ip_.family(), std::span(b.data(), ip_.size())), len_);
}

Ip Cidr::nth(uint64_t index) const {
  const int host_bits = ip_.bits() - len_;
  if (host_bits < 64 && index >> host_bits != 0)
    throw Error("address number " + std::to_string(index) + " is outside " + str());
  std::array<uint8_t, 16> b{};
  const size_t n = ip_.size();
  std::memcpy(b.data(), network().ip().data(), n);
  uint64_t carry = index;
  for (size_t i = n; i-- > 0 && carry != 0;) {
    uint64_t sum = b[i] + (carry & 0xff);
    b[i] = static_cast<uint8_t>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  return Ip::from_bytes(ip_.family(), std::span(b.data(), n));
}

std::string Cidr::str() const { return ip_.str() + "/" + std::to_string(len_); }

}  // namespace kpath
