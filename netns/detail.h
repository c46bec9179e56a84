// Internal helpers shared by netns/*.cc (not part of the API): an owning fd,
// errno errors, namespace labels for messages, and libmnl attribute tables.
#pragma once

#include <libmnl/libmnl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "base/ip.h"
#include "netns/namespace.h"

namespace netns::detail {

// Owns one file descriptor; closes it exactly once.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// "what: strerror(err)" as kpath::Error.
[[noreturn]] void throw_errno(const std::string& what, int err = errno);
// Thread-safe strerror.
std::string error_text(int err);

// "namespace net:[4026532001]", for messages that name where things happen.
std::string label(const Namespace& ns);

// Builds an Ip from raw network-order bytes of the given family.
kpath::Ip ip_from_bytes(int family, const void* bytes);

// libmnl attribute tables: tb[type] points at the attribute of that type, or is
// null. Types beyond the table are ignored (newer kernels add attributes).
void parse_attrs(const nlmsghdr* nlh, size_t offset, std::span<const nlattr*> tb);
void parse_nested(const nlattr* nest, std::span<const nlattr*> tb);

}  // namespace netns::detail
