#!/usr/bin/env bash
# Runs the bundled suite as an unprivileged user (default: nobody), so CI
# proves rootless mode: kpath moves itself into a user namespace and must pass
# every case there. As root it switches user with setpriv; as anyone else it
# runs as that user. Extra arguments go to `kpath run`. KPATH=path/to/kpath
# picks the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
kpath=$(realpath "${KPATH:-build/kpath}")
user=${KPATH_ROOTLESS_USER:-nobody}
[[ $EUID -eq 0 ]] || user=$(id -un)
uid=$(id -u "$user")
gid=$(id -g "$user")
as_user() {
  if [[ $EUID -eq 0 ]]; then setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all -- "$@"; else "$@"; fi
}

# Where the kernel forbids unprivileged user namespaces there is nothing to prove.
if ! as_user unshare --user --map-root-user true 2>/dev/null; then
  echo "rootless-suite: skipped: user $user cannot create a user namespace here (kpath doctor names the sysctl)"
  exit 0
fi

# A copy of the binary and the cases in a folder of the user's own, so a
# checkout under a closed folder (/root) does not stop the user reaching them.
out=$(mktemp -d /tmp/kpath-rootless-suite.XXXXXX)
trap 'rm -rf "$out"' EXIT
cp "$kpath" "$out/kpath"
cp -r cases "$out/cases"
chmod -R a+rX "$out"
chown -R "$uid:$gid" "$out"
status=0
(cd "$out" && as_user ./kpath run --junit junit.xml "$@" cases) || status=$?
owner=$(stat -c %u "$out/junit.xml" 2>/dev/null || echo none)
if [[ $owner != "$uid" ]]; then
  echo "rootless-suite: the JUnit report is owned by '$owner', not by $user ($uid)" >&2
  status=1
fi
echo "rootless-suite: kpath run as $user exited $status"
exit "$status"
