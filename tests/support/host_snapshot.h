// What the root namespace looks like, so a test can prove kpath left it as it
// found it. The snapshot is ci/lib/host-snapshot.sh's (links, addresses,
// routes, nftables, both iptables variants, the sysctls kpath sets inside its
// namespaces, kpath's pins): the C++ tests and the ci/ scripts compare the
// same things.
#pragma once

#include <chrono>
#include <cstdio>
#include <set>
#include <string>

#include "base/strings.h"
#include "support/eventually.h"

namespace kpath_test {

inline std::string command_output(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen((cmd + " 2>/dev/null").c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
  }
  return out;
}

struct HostSnapshot {
  std::string text;

  static HostSnapshot take() {
    return {command_output("bash -c 'source " KPATH_SOURCE_DIR "/ci/lib/host-snapshot.sh && host_snapshot'")};
  }
  bool operator==(const HostSnapshot&) const = default;

  // The host once it looks as `before` again, or as it is after `within`:
  // the kernel frees a namespace asynchronously after its last fd closes.
  static HostSnapshot settled_to(const HostSnapshot& before,
                                 std::chrono::milliseconds within = std::chrono::seconds(5)) {
    HostSnapshot now = take();
    eventually([&] { return (now = take()) == before; }, within, std::chrono::milliseconds(20));
    return now;
  }

  // The lines only one side has: "- before" / "+ after".
  std::string difference(const HostSnapshot& after) const {
    auto lines = [](const std::string& t) {
      auto v = kpath::split_lines(t);
      return std::multiset<std::string>(v.begin(), v.end());
    };
    auto a = lines(text), b = lines(after.text);
    std::string out;
    for (const auto& l : a)
      if (!b.count(l)) out += "- " + l + "\n";
    for (const auto& l : b)
      if (!a.count(l)) out += "+ " + l + "\n";
    return out;
  }
};

}  // namespace kpath_test
