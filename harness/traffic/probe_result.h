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

// How a probe ended.
enum class Outcome { Reply, Refused, Reset, Timeout, Unreachable, Error };
std::string to_string(Outcome o);

struct ProbeResult {
  Outcome outcome = Outcome::Error;
  EchoReply reply;  // valid when outcome == Reply
  std::chrono::microseconds latency{0};
  int error = 0;  // errno for failures
};

}  // namespace harness
