#include "harness/traffic/probe_result.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <iterator>

namespace harness {

std::string to_string(Outcome o) {
  switch (o) {
    case Outcome::Reply: return "reply";
    case Outcome::Refused: return "refused";
    case Outcome::Reset: return "reset";
    case Outcome::Timeout: return "timeout";
    case Outcome::Unreachable: return "unreachable";
    case Outcome::Error: return "error";
    case Outcome::Leaked: return "leaked";
    case Outcome::OutputDrop: return "output-drop";
  }
  return "?";
}

namespace {

std::string icmp_name(int family, uint8_t type, uint8_t code) {
  if (family == AF_INET && type == 3) {  // destination unreachable
    static const char* const codes[] = {"net-unreachable",  "host-unreachable", "protocol-unreachable",
                                        "port-unreachable", "frag-needed",      "source-route-failed",
                                        "net-unknown",      "host-unknown",     "source-host-isolated",
                                        "net-prohibited",   "host-prohibited",  "net-tos",
                                        "host-tos",         "admin-prohibited"};
    if (code < std::size(codes)) return codes[code];
  }
  if (family == AF_INET6 && type == 1) {  // ICMPv6 destination unreachable
    static const char* const codes[] = {"no-route",         "admin-prohibited", "beyond-scope", "addr-unreachable",
                                        "port-unreachable", "policy-fail",      "reject-route"};
    if (code < std::size(codes)) return codes[code];
  }
  return fmt::format("type {} code {}", type, code);
}

}  // namespace

std::string Refusal::str() const {
  if (!icmp) return "TCP RST";
  return fmt::format("{} {} from {}", family == AF_INET6 ? "ICMPv6" : "ICMP", icmp_name(family, type, code),
                     from.str());
}

}  // namespace harness
