// Small socket helpers shared by the echo servers and the prober.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "base/fd.h"
#include "base/ip.h"
#include "harness/traffic/probe_result.h"

namespace harness {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

SockAddr make_sockaddr(const kpath::Ip& ip, uint16_t port);
// Address and port of a sockaddr; v4-mapped IPv6 addresses come back as IPv4.
std::pair<kpath::Ip, uint16_t> from_sockaddr(const sockaddr* sa);

// The network-order bytes of an address struct (in_addr, in6_addr, a header field).
template <typename T>
std::span<const uint8_t, sizeof(T)> bytes_of(const T& value) {
  return std::span<const uint8_t, sizeof(T)>(reinterpret_cast<const uint8_t*>(&value), sizeof(T));
}
kpath::Ip ip_of(const in_addr& a);
// A v4-mapped IPv6 address comes back as IPv4.
kpath::Ip ip_of(const in6_addr& a);

std::string format_reply(const EchoReply& r);
bool parse_reply(const std::string& text, EchoReply& out);

}  // namespace harness
