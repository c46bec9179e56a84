#!/usr/bin/env bash
# Sets up, builds and runs the bundled suite (cases/) on this machine's kernel.
# Extra arguments go to `kpath run` (e.g. --junit report.xml, --generator ...);
# a case file or folder among them runs instead of the bundled suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/build.sh
# Paths are case files (*.yaml, *.yml) and folders, unless they are the value
# of an option that takes a file or folder.
prev=
for arg in "$@"; do
  case $prev in --junit|--json|--report|--artifacts) prev=$arg; continue ;; esac
  if [[ -d $arg || ( -f $arg && ( $arg == *.yaml || $arg == *.yml ) ) ]]; then
    exec build/kpath run "$@"
  fi
  prev=$arg
done
exec build/kpath run "$@" cases/
