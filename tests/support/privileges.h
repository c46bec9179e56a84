// Kernel tests need CAP_NET_ADMIN. Without it they skip and say why; in CI
// (CI=true) a skip would hide a missing capability, so they fail instead.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "netns/privileges.h"

namespace kpath_test {

using netns::has_net_admin;

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

}  // namespace kpath_test

#define KPATH_REQUIRE_NET_ADMIN()                                                      \
  do {                                                                                 \
    if (!kpath_test::has_net_admin()) {                                                \
      if (kpath_test::in_ci()) FAIL() << "CI=true but CAP_NET_ADMIN is missing";       \
      GTEST_SKIP() << "needs CAP_NET_ADMIN (run as root) to build network namespaces"; \
    }                                                                                  \
  } while (0)
