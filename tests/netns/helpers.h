// Shared helpers for the netns kernel tests: sockets made inside namespaces
// (a socket stays in the namespace it was created in) and a two-namespace pair.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "netns/address.h"
#include "netns/link.h"
#include "netns/namespace.h"

namespace kpath_test {

using kpath::Fd;

inline sockaddr_storage sockaddr_of(const kpath::Ip& ip, uint16_t port, socklen_t& len) {
  sockaddr_storage ss{};
  if (ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, ip.data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, ip.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  return ss;
}

// A socket of type created inside ns and bound to ip:port (port 0: any).
inline Fd socket_in(const netns::Namespace& ns, int type, const kpath::Ip& ip, uint16_t port) {
  int fd = ns.run([&] {
    int s = ::socket(ip.family(), type | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = 0;
    sockaddr_storage ss = sockaddr_of(ip, port, len);
    if (::bind(s, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      ::close(s);
      return -1;
    }
    return s;
  });
  return Fd(fd);
}

// sendto() result: 0 on success, else errno.
inline int send_udp(int fd, const kpath::Ip& to, uint16_t port, const std::string& payload) {
  socklen_t len = 0;
  sockaddr_storage ss = sockaddr_of(to, port, len);
  ssize_t n = ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
  return n < 0 ? errno : 0;
}

inline std::optional<std::string> recv_udp(int fd, int timeout_ms = 3000) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) return std::nullopt;
  char buf[2048];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

// Sends payload from tx until rx receives it (resent every 200 ms, up to
// 5 s): a fresh link's first datagram can be lost while the kernel still
// resolves neighbours or finishes bringing the link up. Same socket, so the
// flow (and any conntrack entry) stays one.
inline std::optional<std::string> deliver_udp(int tx, const kpath::Ip& to, uint16_t port, const std::string& payload,
                                              int rx) {
  for (int attempt = 0; attempt < 25; ++attempt) {
    if (send_udp(tx, to, port, payload) != 0) return std::nullopt;
    if (auto got = recv_udp(rx, 200)) return got;
  }
  return std::nullopt;
}

inline bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Two fresh namespaces joined by a veth a0 <-> b0, both ends up, with
// 10.0.0.1/24 + fd00::1/64 on a0 and 10.0.0.2/24 + fd00::2/64 on b0.
struct Pair {
  netns::Namespace a = netns::Namespace::create();
  netns::Namespace b = netns::Namespace::create();
  kpath::Ip a_ip = kpath::Ip::from("10.0.0.1"), b_ip = kpath::Ip::from("10.0.0.2");
  kpath::Ip a_ip6 = kpath::Ip::from("fd00::1"), b_ip6 = kpath::Ip::from("fd00::2");

  Pair() {
    netns::create_veth(a, "a0", b, "b0");
    netns::set_up(a, "a0");
    netns::set_up(b, "b0");
    netns::add_address(a, "a0", kpath::Cidr(a_ip, 24));
    netns::add_address(b, "b0", kpath::Cidr(b_ip, 24));
    netns::add_address(a, "a0", kpath::Cidr(a_ip6, 64));
    netns::add_address(b, "b0", kpath::Cidr(b_ip6, 64));
  }
};

// A UDP flow from a's veth address to service, an address b takes on its
// loopback: off every connected prefix, so a reaches it only through a route.
struct UdpToLoopbackOfB {
  kpath::Ip service;
  uint16_t port;
  Fd rx, tx;
  bool ready() const { return rx.get() >= 0 && tx.get() >= 0; }
};

inline UdpToLoopbackOfB udp_to_loopback_of_b(const Pair& p, const char* service, uint16_t port) {
  netns::set_up(p.b, "lo");
  netns::add_address(p.b, "lo", kpath::Cidr(kpath::Ip::from(service), 32));
  const kpath::Ip ip = kpath::Ip::from(service);
  return {ip, port, socket_in(p.b, SOCK_DGRAM, ip, port), socket_in(p.a, SOCK_DGRAM, p.a_ip, 0)};
}

}  // namespace kpath_test
