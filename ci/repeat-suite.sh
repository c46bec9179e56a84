#!/usr/bin/env bash
# Runs the bundled suite N times in a row (default 50) to catch flakes: every
# run must pass. On a failure, prints that run's output and stops.
#   ci/repeat-suite.sh [N] [CASES...]    (KPATH=path/to/kpath, default build/kpath)
set -euo pipefail
cd "$(dirname "$0")/.."
KPATH=${KPATH:-build/kpath}
n=${1:-50}
shift || true
cases=("$@")
[[ ${#cases[@]} -gt 0 ]] || cases=(cases/)

out=$(mktemp)
trap 'rm -f "$out"' EXIT

passed=0
for ((i = 1; i <= n; i++)); do
  status=0
  "$KPATH" run "${cases[@]}" >"$out" 2>&1 || status=$?
  if [[ $status -ne 0 ]]; then
    echo "--- run $i of $n failed (exit $status):"
    cat "$out"
    echo "repeat-suite: $passed of $n runs passed, run $i failed"
    exit 1
  fi
  passed=$((passed + 1))
done
echo "repeat-suite: $passed of $n runs passed"
