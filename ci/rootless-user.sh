#!/usr/bin/env bash
# Makes (once) the CI user kpath-ci with subordinate uid and gid ranges, so
# the kernel tests also prove rootless mode's newuidmap/newgidmap mapping
# (tests/run/rootless_test.cc looks for a user with ranges in /etc/subuid and
# /etc/subgid, and skips with the reason when there is none). Only CI does
# this: kpath itself never adds users or ranges. Needs root; idempotent.
set -euo pipefail
user=kpath-ci
range=1200000-1265535  # 65536 ids, far above the ranges useradd hands out (100000 on)
if [[ $EUID -ne 0 ]]; then
  echo "rootless-user: not root: no CI user made"
  exit 0
fi
if ! command -v newuidmap >/dev/null || ! command -v newgidmap >/dev/null; then
  echo "rootless-user: newuidmap/newgidmap missing (Debian package uidmap): no CI user made"
  exit 0
fi
id -u "$user" >/dev/null 2>&1 ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
grep -q "^$user:" /etc/subuid 2>/dev/null || usermod --add-subuids "$range" "$user"
grep -q "^$user:" /etc/subgid 2>/dev/null || usermod --add-subgids "$range" "$user"
echo "rootless-user: $user ($(id -u "$user")) maps $(grep "^$user:" /etc/subuid | cut -d: -f2-) (subuid)"
