#!/usr/bin/env bash
# Builds kpath and runs its benchmark (needs root): probe rates, topology build
# and the seed case end to end, each against the shell peer in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/build.sh
exec build/tests/kpath_bench
