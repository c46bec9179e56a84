#!/usr/bin/env bash
# Sets up, builds and runs kpath's tests: unit tests and kernel tests (the
# kernel tests need root; under CI=true they fail rather than skip without it).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/build.sh
# The style every C++ source follows (.clang-format): cheap, so it goes first.
ci/format-check.sh
# The CI user kpath-ci with subordinate id ranges (made once), for the test of
# rootless mode's newuidmap/newgidmap mapping.
ci/rootless-user.sh
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
cd ..
# The same kernel, without root: the bundled suite as user nobody (rootless mode),
ci/rootless-suite.sh
# and the kernel test binaries as nobody inside a user namespace.
ci/rootless-tests.sh
