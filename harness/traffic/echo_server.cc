#include "harness/traffic/echo_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/errno.h"

namespace harness {
namespace {

// A prober's whole window of datagrams (hundreds, each costing about 1 KiB of
// buffer) can reach one pod while this thread answers others; the default
// buffer (about 200 KiB) then drops some, and each drop costs its probe a
// timeout. Past net.core.rmem_max with CAP_NET_ADMIN; capped by it without.
void reserve_receive_buffer(int fd) {
  int bytes = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

kpath::Fd open_listener(int family, uint16_t port, Protocol protocol) {
  int type = protocol == Protocol::UDP ? SOCK_DGRAM : SOCK_STREAM;
  int proto = protocol == Protocol::SCTP ? IPPROTO_SCTP : 0;
  kpath::Fd fd(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto));
  if (!fd.valid()) kpath::throw_errno("echo server: socket");
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (protocol == Protocol::UDP) {
    // Learn which local address each datagram was sent to, to answer from it.
    if (family == AF_INET) setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    else setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    reserve_receive_buffer(fd.get());
  }
  auto any = make_sockaddr(kpath::Ip::from(family == AF_INET ? "0.0.0.0" : "::"), port);
  if (::bind(fd.get(), any.get(), any.len) != 0)
    kpath::throw_errno(fmt::format("echo server: bind port {}/{}", port, to_string(protocol)));
  if (protocol != Protocol::UDP && ::listen(fd.get(), 4096) != 0) kpath::throw_errno("echo server: listen");
  return fd;
}

// Makes `value` the one control message of `out`, in `buffer`.
template <typename T>
void put_cmsg(msghdr& out, char* buffer, int level, int type, const T& value) {
  out.msg_control = buffer;
  out.msg_controllen = CMSG_SPACE(sizeof value);
  cmsghdr* c = CMSG_FIRSTHDR(&out);
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(sizeof value);
  std::memcpy(CMSG_DATA(c), &value, sizeof value);
}

// epoll tags: listener indices, the wake-up eventfd, and request fds.
constexpr uint64_t kWake = ~0ull;
constexpr uint64_t kRequest = 1ull << 62;

}  // namespace

std::string health_response(const HealthCheck& c) {
  int n = c.local_endpoints ? c.local_endpoints->load() : 0;
  std::string body = fmt::format(R"({{"service":{{"namespace":"{}","name":"{}"}},"localEndpoints":{}}})", c.ns, c.name,
                                 n);
  return fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
      "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
      n > 0 ? "200 OK" : "503 Service Unavailable", body.size(), body);
}

EchoServers::EchoServers() : epoll_(::epoll_create1(EPOLL_CLOEXEC)), wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!epoll_.valid() || !wake_.valid()) kpath::throw_errno("echo server: epoll/eventfd");
  epoll_event ev{EPOLLIN, {.u64 = kWake}};
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);
}

EchoServers::~EchoServers() { stop(); }

void EchoServers::listen(const netns::Namespace& ns, const std::string& backend, uint16_t port, Protocol protocol,
                         bool with_v6) {
  std::vector<int> families{AF_INET};
  if (with_v6) families.push_back(AF_INET6);
  for (int family : families) {
    // A socket belongs to the namespace it is created in, whichever thread uses it.
    kpath::Fd fd = ns.run([&] { return open_listener(family, port, protocol); });
    epoll_event ev{EPOLLIN, {.u64 = listeners_.size()}};
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) kpath::throw_errno("echo server: epoll_ctl");
    listeners_.push_back({std::move(fd), backend, protocol});
  }
}

void EchoServers::listen_health(const netns::Namespace& ns, uint16_t port, HealthCheck c, bool with_v6) {
  std::vector<int> families{AF_INET};
  if (with_v6) families.push_back(AF_INET6);
  for (int family : families) {
    kpath::Fd fd = ns.run([&] { return open_listener(family, port, Protocol::TCP); });
    epoll_event ev{EPOLLIN, {.u64 = listeners_.size()}};
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) kpath::throw_errno("echo server: epoll_ctl");
    listeners_.push_back({std::move(fd), "", Protocol::TCP, c});
  }
}

void EchoServers::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void EchoServers::stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

void EchoServers::loop() {
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epoll_.get(), events, 64, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kWake) return;
      if (tag & kRequest) {
        read_request(static_cast<int>(tag & ~kRequest));
        continue;
      }
      const Listener& l = listeners_[tag];
      if (l.health) accept_requests(tag);
      else if (l.protocol == Protocol::UDP) answer_datagrams(l);
      else accept_all(l);
    }
  }
}

// Accepts every pending connection, writes the reply and closes: the client
// reads to EOF. The reply fits in the socket buffer, so the write never blocks.
void EchoServers::accept_all(const Listener& l) {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    kpath::Fd conn(::accept4(l.fd.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
    if (!conn.valid()) return;
    sockaddr_storage local{};
    socklen_t llen = sizeof local;
    getsockname(conn.get(), reinterpret_cast<sockaddr*>(&local), &llen);
    EchoReply r;
    r.backend = l.backend;
    std::tie(r.peer, r.peer_port) = from_sockaddr(reinterpret_cast<sockaddr*>(&peer));
    std::tie(r.local, r.local_port) = from_sockaddr(reinterpret_cast<sockaddr*>(&local));
    std::string text = format_reply(r);
    (void)::send(conn.get(), text.data(), text.size(), MSG_NOSIGNAL);  // a peer that left is its own probe's failure
  }
}

// Health checks are HTTP: the client speaks first, so each connection waits
// for its request before the answer.
void EchoServers::accept_requests(size_t listener) {
  for (;;) {
    kpath::Fd conn(::accept4(listeners_[listener].fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!conn.valid()) return;
    int fd = conn.get();
    epoll_event ev{EPOLLIN, {.u64 = kRequest | static_cast<uint64_t>(fd)}};
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) continue;
    requests_.emplace(fd, Request{std::move(conn), listener, {}});
  }
}

void EchoServers::read_request(int fd) {
  auto it = requests_.find(fd);
  if (it == requests_.end()) return;
  Request& req = it->second;
  char buf[1024];
  ssize_t got;
  while ((got = ::recv(fd, buf, sizeof buf, 0)) > 0) req.text.append(buf, static_cast<size_t>(got));
  bool ended = got == 0 || req.text.find("\r\n\r\n") != std::string::npos;
  if (!ended && got < 0 && (errno == EAGAIN || errno == EINTR)) return;  // more to come
  if (ended) {
    std::string text = health_response(*listeners_[req.listener].health);
    (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
  }
  requests_.erase(it);  // closing removes it from epoll
}

void EchoServers::answer_datagrams(const Listener& l) {
  for (;;) {
    char data[512];
    sockaddr_storage peer{};
    char control[256];
    iovec iov{data, sizeof data};
    msghdr msg{};
    msg.msg_name = &peer;
    msg.msg_namelen = sizeof peer;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(l.fd.get(), &msg, 0) < 0) return;

    EchoReply r;
    r.backend = l.backend;
    std::tie(r.peer, r.peer_port) = from_sockaddr(reinterpret_cast<sockaddr*>(&peer));
    sockaddr_storage bound{};
    socklen_t blen = sizeof bound;
    getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&bound), &blen);
    r.local_port = from_sockaddr(reinterpret_cast<sockaddr*>(&bound)).second;

    // Answer from the address the datagram was sent to, so conntrack matches
    // the reply to the DNATed flow.
    char reply_control[256] = {};
    msghdr out{};
    out.msg_name = &peer;
    out.msg_namelen = msg.msg_namelen;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        auto* info = reinterpret_cast<in_pktinfo*>(CMSG_DATA(c));
        in_pktinfo answer{};
        answer.ipi_spec_dst = info->ipi_addr;
        r.local = ip_of(info->ipi_addr);
        put_cmsg(out, reply_control, IPPROTO_IP, IP_PKTINFO, answer);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        auto* info = reinterpret_cast<in6_pktinfo*>(CMSG_DATA(c));
        in6_pktinfo answer{};
        answer.ipi6_addr = info->ipi6_addr;
        r.local = ip_of(info->ipi6_addr);
        put_cmsg(out, reply_control, IPPROTO_IPV6, IPV6_PKTINFO, answer);
      }
    }
    std::string text = format_reply(r);
    iovec oiov{text.data(), text.size()};
    out.msg_iov = &oiov;
    out.msg_iovlen = 1;
    (void)::sendmsg(l.fd.get(), &out, 0);
  }
}

}  // namespace harness
