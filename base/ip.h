// IP addresses and prefixes as value types, IPv4 and IPv6 alike.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kpath {

class Ip {
 public:
  Ip() = default;
  static std::optional<Ip> parse(std::string_view text);
  static Ip v4(uint32_t host_order);
  // From network-order bytes as the kernel hands them over (netlink
  // attributes, sockaddrs, packet headers): 4 for AF_INET, 16 for AF_INET6.
  // Throws kpath::Error on another family or length.
  static Ip from_bytes(int family, std::span<const uint8_t> bytes);
  // Parses or throws kpath::Error("bad IP address ...").
  static Ip from(std::string_view text);

  int family() const { return family_; }  // AF_INET or AF_INET6; 0 when unset
  bool is_v4() const;
  bool is_v6() const;
  bool valid() const { return family_ != 0; }
  int bits() const { return is_v4() ? 32 : 128; }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return is_v4() ? 4 : 16; }
  uint32_t v4_host_order() const;
  bool is_loopback() const;
  std::string str() const;

  auto operator<=>(const Ip&) const = default;

 private:
  int family_ = 0;
  std::array<uint8_t, 16> bytes_{};
};

class Cidr {
 public:
  Cidr() = default;
  Cidr(Ip base, int prefix_len);
  static std::optional<Cidr> parse(std::string_view text);  // "10.0.0.0/8"; a bare IP is a host route
  static Cidr from(std::string_view text);                  // or throws kpath::Error
  const Ip& ip() const { return ip_; }
  int prefix_len() const { return len_; }
  bool contains(const Ip& ip) const;
  Cidr network() const;  // host bits cleared
  // The network address plus `index` (0: the network address itself); throws
  // kpath::Error when that falls outside the prefix.
  Ip nth(uint64_t index) const;
  std::string str() const;
  auto operator<=>(const Cidr&) const = default;

 private:
  Ip ip_;
  int len_ = 0;
};

}  // namespace kpath
