// Per-namespace sysctls under /proc/sys/net, written from a thread inside the
// namespace (the net sysctls belong to the namespace of whoever opens them).
#pragma once

#include <string>

#include "netns/namespace.h"

namespace netns {

// key as a path below /proc/sys, e.g. "net/ipv4/ip_forward".
void set_sysctl(const Namespace& ns, const std::string& key, const std::string& value);
std::string get_sysctl(const Namespace& ns, const std::string& key);

}  // namespace netns
