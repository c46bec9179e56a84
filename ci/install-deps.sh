#!/usr/bin/env bash
# Installs every Debian package kpath needs to build, test and run (Debian 12).
# Idempotent; needs root. Set KPATH_SKIP_APT=1 to skip (packages already present).
set -euo pipefail

if [[ "${KPATH_SKIP_APT:-0}" == 1 ]]; then exit 0; fi

packages=(
  # build
  build-essential cmake pkg-config python3 iproute2
  # libraries
  libmnl-dev libboost-dev libboost-filesystem-dev libfmt-dev
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libssl-dev libpugixml-dev
  # tests (chromium renders the HTML report headless)
  libgtest-dev libgmock-dev chromium
  # rule installers and kernel tools the harness spawns inside namespaces
  iptables nftables
  # newuidmap/newgidmap: rootless mode maps a user's subordinate id ranges with them
  uidmap
  # clients the API server is tested against (tests/apiserver/clients_test.cc)
  python3-kubernetes
  # fuzzing the case loader (libFuzzer ships with clang)
  clang libclang-rt-14-dev
  # the C++ style check (ci/format-check.sh; .clang-format)
  clang-format-14
  # the benchmark's shell peer (ci/bench.sh, bench/shell-peer.sh)
  socat
)

# kubectl 1.20 (client-go 1.20) for the same tests. Another kubectl already on
# PATH (e.g. Google's "kubectl" package, which owns /usr/bin/kubectl too) is
# used instead: the two packages cannot both be installed.
command -v kubectl >/dev/null || packages+=(kubernetes-client)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi

if [[ $(id -u) != 0 ]]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
