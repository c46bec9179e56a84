// Kernel tests need CAP_NET_ADMIN. Without it they skip and say why; in CI
// (CI=true) a skip would hide a missing capability, so they fail instead.
#pragma once

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace kpath_test {

inline bool has_net_admin() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  return (data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32))) != 0;
}

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

}  // namespace kpath_test

#define KPATH_REQUIRE_NET_ADMIN()                                                        \
  do {                                                                                   \
    if (!kpath_test::has_net_admin()) {                                                  \
      if (kpath_test::in_ci()) FAIL() << "CI=true but CAP_NET_ADMIN is missing";       \
      GTEST_SKIP() << "needs CAP_NET_ADMIN (run as root) to build network namespaces"; \
    }                                                                                    \
  } while (0)
