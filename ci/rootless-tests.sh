#!/usr/bin/env bash
# Runs the kernel test binaries again as an unprivileged user (default:
# nobody) inside a user namespace: `unshare --user --map-root-user --net`.
# There the tests hold CAP_NET_ADMIN of the user namespace, which is what
# tests/support/privileges.h checks (the effective set), so they really run;
# CI=true turns a skip for want of it into a failure. What needs the host's
# root is left out by the filter below, each with its reason. As root it
# switches user with setpriv; as anyone else it runs as that user.
# BUILD=dir picks the build folder (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${BUILD:-build}")
user=${KPATH_ROOTLESS_USER:-nobody}
[[ $EUID -eq 0 ]] || user=$(id -un)
uid=$(id -u "$user")
gid=$(id -g "$user")
as_user() {
  if [[ $EUID -eq 0 ]]; then setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all -- "$@"; else "$@"; fi
}

if ! as_user unshare --user --map-root-user true 2>/dev/null; then
  echo "rootless-tests: skipped: user $user cannot create a user namespace here (kpath doctor names the sysctl)"
  exit 0
fi
# The binaries find their data by absolute path (the source tree, the build).
# A checkout in a folder closed to others (/root) keeps nobody out: then root
# runs them, still inside a new user namespace, where it holds no capability
# over the host's network either (only files it owns stay readable).
if ! as_user test -x "$build/tests/kpath_netns_tests" -a -r "$build/../cases/seed-webapp1-nodeport.yaml"; then
  if [[ $EUID -ne 0 ]]; then
    echo "rootless-tests: user $user cannot reach $build or the sources (a folder on the path is closed to others)" >&2
    exit 1
  fi
  echo "rootless-tests: $user cannot reach $build or the sources (a folder on the path is closed to others):" \
    "running the tests as root inside the user namespace instead"
  user=root uid=0 gid=0
  as_user() { "$@"; }
fi

# Left out: tests that need the host's root, not a user namespace's. (The
# end-to-end kpath_run_tests are not run here: they spawn kpath, whose rootless
# runs tests/run/rootless_test.cc and ci/rootless-suite.sh already prove as
# nobody; several switch users or compare the host, which needs real root.)
excluded=(
  # Pins under /run/netns: bind mounts in the host's mount namespace, which only its root may change
  # (rootless --keep uses a keeper process instead: tests/netns/keeper_test.cc runs here).
  'Namespace.PinKeepsTheNamespaceAliveAfterItsFdClosesAndUnpinRemovesIt'
  'PinWithMarker.*'
)
filter="-$(IFS=:; echo "${excluded[*]}")"

status=0
for layer in netns topology traffic rules generators; do
  bin="$build/tests/kpath_${layer}_tests"
  [[ -x $bin ]] || continue
  log=$(mktemp /tmp/kpath-rootless-tests.XXXXXX)
  chown "$uid:$gid" "$log" 2>/dev/null || true
  rc=0
  (cd / && as_user unshare --user --map-root-user --net -- env CI=true "$bin" --gtest_filter="$filter" \
    --gtest_brief=1 >"$log" 2>&1) || rc=$?
  passed=$(grep -oP '^\[  PASSED  \] \K[0-9]+' "$log" || echo 0)
  skipped=$(grep -oP '^\[  SKIPPED \] \K[0-9]+' "$log" || echo 0)
  failed=$(grep -cP '^\[  FAILED  \] .* \([0-9]+ ms\)$' "$log" || true)
  echo "rootless-tests: kpath_${layer}_tests as $user in a user namespace: $passed passed, $skipped skipped, $failed failed"
  if [[ $rc -ne 0 ]]; then
    cat "$log"
    status=1
  fi
  rm -f "$log"
done
exit "$status"
