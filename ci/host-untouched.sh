#!/usr/bin/env bash
# Proves `kpath run` leaves the root network namespace as it found it: links,
# addresses, routes, iptables (nft and legacy), nftables and the sysctls kpath
# sets inside its own namespaces, snapshotted before and after the suite.
#   ci/host-untouched.sh [CASES...]      (KPATH=path/to/kpath, default build/kpath)
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib/host-snapshot.sh
KPATH=${KPATH:-build/kpath}
cases=("$@")
[[ ${#cases[@]} -gt 0 ]] || cases=(cases/)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

host_snapshot >"$work/before"
status=0
"$KPATH" run "${cases[@]}" >"$work/suite.out" 2>&1 || status=$?
host_snapshot >"$work/after"

if [[ $status -ne 0 ]]; then
  cat "$work/suite.out"
  echo "host-untouched: the suite itself failed (exit $status)" >&2
fi
if ! host_unchanged "$work/before" "$work/after"; then
  echo "host-untouched: 1 suite run, root namespace CHANGED"
  exit 1
fi
echo "host-untouched: 1 suite run (exit $status), $(grep -c . "$work/before") snapshot lines unchanged"
exit "$status"
