// The out-of-window probe (behaviour B15, kubernetes issue 74839): open a TCP
// connection through the flow, then let the backend that answered send a
// segment 2^30 bytes beyond the connection's window. Conntrack marks it
// INVALID, so it is not NATed back; kube-proxy's iptables mode drops INVALID
// packets in FORWARD. The probe reports a Reply when the client received the
// segment (it leaked, with the backend's own address as source) and a
// Timeout when it never arrived. IPv4 and IPv6 (ip6tables' KUBE-FORWARD
// drops INVALID alike).
#pragma once

#include <functional>

#include "harness/traffic/prober.h"
#include "netns/namespace.h"

namespace harness {

// backend_ns finds the namespace of the backend named in the echo reply.
ProbeResult probe_out_of_window(const netns::Namespace& client, const ProbeSpec& spec,
                                const std::function<const netns::Namespace&(const std::string&)>& backend_ns);

}  // namespace harness
