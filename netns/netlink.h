// A netlink socket bound inside one namespace. Every request asks for an ACK
// and waits for it; a kernel error becomes kpath::Error with errno text and the
// kernel's extended-ack message (libmnl's request -> ACK -> callback rhythm).
#pragma once

#include <libmnl/libmnl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/error.h"
#include "netns/namespace.h"

namespace netns {

// A request the kernel refused; code() keeps the errno so a caller can accept
// e.g. EEXIST. The message is "what: strerror (kernel: extack)".
class NetlinkError : public kpath::Error {
 public:
  NetlinkError(int code, std::string message) : kpath::Error(std::move(message)), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class Netlink {
 public:
  // Opens a socket of the given bus (NETLINK_ROUTE, NETLINK_NETFILTER, ...)
  // inside ns; the socket stays in that namespace whatever thread uses it.
  Netlink(const Namespace& ns, int bus);

  // A fresh request header in the internal buffer, with a new sequence number.
  nlmsghdr* begin(uint16_t type, uint16_t flags);
  // Sends the request (NLM_F_ACK added) and waits for the ACK. what names the
  // operation in the error ("create veth node0-pod1"). Replies are matched to
  // the request by sequence number and must be addressed to this socket's port
  // (libmnl's mnl_cb_run checks both).
  void ack(nlmsghdr* request, const std::string& what);
  // Sends a dump request and calls on_message for every reply message.
  void dump(nlmsghdr* request, const std::function<void(const nlmsghdr*)>& on_message, const std::string& what);
  // Sends a single (non-dump) GET with NLM_F_ACK, calls on_reply for each reply
  // that precedes the ACK (e.g. RTM_GETLINK by IFLA_IFNAME).
  void query(nlmsghdr* request, const std::function<void(const nlmsghdr*)>& on_reply, const std::string& what);

 private:
  using Socket = std::unique_ptr<mnl_socket, int (*)(mnl_socket*)>;
  Socket sock_{nullptr, mnl_socket_close};
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
  std::string buf_;
};

}  // namespace netns
