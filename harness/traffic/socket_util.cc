#include "harness/traffic/socket_util.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstring>
#include <sstream>

namespace harness {

SockAddr make_sockaddr(const kpath::Ip& ip, uint16_t port) {
  SockAddr a;
  if (ip.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&a.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, ip.data(), 4);
    a.len = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, ip.data(), 16);
    a.len = sizeof(sockaddr_in6);
  }
  return a;
}

kpath::Ip ip_of(const in_addr& a) { return kpath::Ip::from_bytes(AF_INET, bytes_of(a)); }

kpath::Ip ip_of(const in6_addr& a) {
  if (IN6_IS_ADDR_V4MAPPED(&a)) return kpath::Ip::from_bytes(AF_INET, bytes_of(a).subspan<12>());
  return kpath::Ip::from_bytes(AF_INET6, bytes_of(a));
}

std::pair<kpath::Ip, uint16_t> from_sockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return {ip_of(in->sin_addr), ntohs(in->sin_port)};
  }
  auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  return {ip_of(in6->sin6_addr), ntohs(in6->sin6_port)};
}

std::string format_reply(const EchoReply& r) {
  return fmt::format("kpath1 {} {} {} {} {}\n", r.backend, r.peer.str(), r.peer_port, r.local.str(), r.local_port);
}

bool parse_reply(const std::string& text, EchoReply& out) {
  std::istringstream in(text);
  std::string magic, peer, local;
  if (!(in >> magic >> out.backend >> peer >> out.peer_port >> local >> out.local_port)) return false;
  if (magic != "kpath1") return false;
  auto p = kpath::Ip::parse(peer);
  auto l = kpath::Ip::parse(local);
  if (!p || !l) return false;
  out.peer = *p;
  out.local = *l;
  return true;
}

}  // namespace harness
