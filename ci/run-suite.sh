#!/usr/bin/env bash
# Sets up, builds and runs the bundled suite (cases/) on this machine's kernel.
# Extra arguments go to `kpath run` (e.g. --junit report.xml, --generator ...).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/build.sh
exec build/kpath run "$@" cases/
