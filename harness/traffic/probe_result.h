// What one probe saw: the types the prober fills and the verdict reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/ip.h"

namespace harness {

// The reply an echo server sends: who answered, the peer it saw, and the local
// address it was reached on (so attribution stays exact when a namespace holds
// several endpoint addresses).
struct EchoReply {
  std::string backend;
  kpath::Ip peer;
  uint16_t peer_port = 0;
  kpath::Ip local;
  uint16_t local_port = 0;
};

// The name the topology's sink answers as (no pod can have it): a reply from
// it means the probe left the node un-NATed, to reply.local.
inline constexpr const char* kSinkBackend = "(sink)";

// How a probe ended. Leaked: the sink answered (see kSinkBackend).
// OutputDrop: the sender's own netfilter dropped the packet on its way out, so
// the send failed at once with EPERM (a datagram's; a TCP SYN dropped there is
// retransmitted silently and ends as a Timeout).
enum class Outcome { Reply, Refused, Reset, Timeout, Unreachable, Error, Leaked, OutputDrop };
std::string to_string(Outcome o);

// Who refused a connection: an ICMP error (a REJECT rule's, or a UDP stack's
// port-unreachable) carries its sender and type; a TCP RST carries neither.
struct Refusal {
  bool icmp = false;
  kpath::Ip from;  // the ICMP error's sender
  uint8_t type = 0;
  uint8_t code = 0;
  int family = 0;           // AF_INET or AF_INET6: which ICMP the type is of
  std::string str() const;  // "ICMP port-unreachable from 192.168.10.1", "TCP RST"
};

struct ProbeResult {
  Outcome outcome = Outcome::Error;
  EchoReply reply;          // valid when outcome == Reply or Leaked
  Refusal refusal;          // valid when outcome == Refused
  uint16_t local_port = 0;  // the probe socket's own source port
  int http_status = 0;      // an HTTP probe's status code (ProbeSpec::http_request)
  std::string http_body;
  std::chrono::microseconds latency{0};
  int error = 0;  // errno for failures
};

}  // namespace harness
