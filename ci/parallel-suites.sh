#!/usr/bin/env bash
# Two full `kpath run` at once: each builds its own namespaces, so both must
# pass, and the root namespace must be unchanged afterwards.
#   ci/parallel-suites.sh [CASES...]     (KPATH=path/to/kpath, default build/kpath)
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib/host-snapshot.sh
KPATH=${KPATH:-build/kpath}
cases=("$@")
[[ ${#cases[@]} -gt 0 ]] || cases=(cases/)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

host_snapshot >"$work/before"
"$KPATH" run "${cases[@]}" >"$work/a.out" 2>&1 & a=$!
"$KPATH" run "${cases[@]}" >"$work/b.out" 2>&1 & b=$!
status_a=0 status_b=0
wait "$a" || status_a=$?
wait "$b" || status_b=$?
host_snapshot >"$work/after"

passed=0
for run in a b; do
  var=status_$run
  if [[ ${!var} -eq 0 ]]; then
    passed=$((passed + 1))
  else
    echo "--- suite $run failed (exit ${!var}):"
    cat "$work/$run.out"
  fi
done
host=unchanged
host_unchanged "$work/before" "$work/after" || host=CHANGED
echo "parallel-suites: $passed of 2 suites passed, root namespace $host"
[[ $passed -eq 2 && $host == unchanged ]]
