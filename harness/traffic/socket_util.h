// Small socket helpers shared by the echo servers and the prober.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>

#include "base/ip.h"
#include "harness/traffic/probe_result.h"

namespace harness {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

SockAddr make_sockaddr(const kpath::Ip& ip, uint16_t port);
// Address and port of a sockaddr; v4-mapped IPv6 addresses come back as IPv4.
std::pair<kpath::Ip, uint16_t> from_sockaddr(const sockaddr* sa);

std::string format_reply(const EchoReply& r);
bool parse_reply(const std::string& text, EchoReply& out);

}  // namespace harness
