#!/usr/bin/env bash
# Builds kube-proxy v1.20.2 from Debian 12's own kubernetes source package
# (1.20.5+really1.20.2) with Debian's golang-1.19 into build/kube-proxy.
# Idempotent: does nothing when build/kube-proxy exists and was built from the
# same source version (recorded in build/kube-proxy.version). Needs root for
# apt-get; reaches no network other than Debian's archive (the tarball carries
# vendor/, GOPATH mode needs no module download). About 3-5 minutes on 2 cores.
# Not part of the test command: run it once, then see docs/proxies.md.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/build/kube-proxy"
src_root="$repo/build/kube-proxy-src"
gopath="$repo/build/kube-proxy-gopath"
go=/usr/lib/go-1.19/bin/go

# The source version we build; checked against the unpacked tree below.
want_prefix="kubernetes-1.20"

built_version() { [[ -f "$out.version" ]] && cat "$out.version"; }

source_dir() {
  # apt-get source unpacks into kubernetes-<upstream version>/
  find "$src_root" -maxdepth 1 -mindepth 1 -type d -name "${want_prefix}*" 2>/dev/null | sort | tail -n1
}

if [[ -x "$out" && -n "$(built_version)" ]]; then
  dir=$(source_dir)
  if [[ -n "$dir" && "$(built_version)" == "$(basename "$dir")" ]] &&
     "$out" --version 2>/dev/null | grep -q 'v1.20'; then
    echo "build-kube-proxy: $out is up to date ($(built_version))"
    exit 0
  fi
fi

if [[ $(id -u) != 0 ]]; then
  echo "build-kube-proxy: needs root (apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# A deb-src entry for the same archives and suites as the binary entries, when
# there is none: each deb822 stanza and each one-line entry copied as deb-src.
ensure_deb_src() {
  if grep -rqsE '^(deb-src |Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return
  fi
  local added=0 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk 'BEGIN{RS=""; ORS="\n\n"} /(^|\n)Types:[^\n]*deb/ {sub(/Types:[^\n]*/, "Types: deb-src"); print}' "$f" \
      >> /etc/apt/sources.list.d/kpath-deb-src.sources
    added=1
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    sed -n 's/^deb /deb-src /p' "$f" >> /etc/apt/sources.list.d/kpath-deb-src.list
    added=1
  done
  if ((added)); then echo "build-kube-proxy: added deb-src entries (/etc/apt/sources.list.d/kpath-deb-src.*)"; fi
}

ensure_deb_src
apt-get update -qq
missing=()
for p in golang-1.19-go dpkg-dev conntrack; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then apt-get install -y -qq --no-install-recommends "${missing[@]}"; fi

mkdir -p "$src_root"
if [[ -z "$(source_dir)" ]]; then
  (cd "$src_root" && apt-get source -qq kubernetes)
fi
dir=$(source_dir)
if [[ -z "$dir" ]]; then
  echo "build-kube-proxy: apt-get source kubernetes gave no ${want_prefix}* tree in $src_root" >&2
  exit 1
fi

# GOPATH mode: k8s.io/kubernetes resolves to the source tree, the rest to its vendor/.
mkdir -p "$gopath/src/k8s.io"
ln -sfn "$dir" "$gopath/src/k8s.io/kubernetes"
(
  cd "$gopath/src/k8s.io/kubernetes"
  # Without this the binary says v0.0.0 (the tarball has no .git for hack/ to read).
  vendored=k8s.io/kubernetes/vendor
  GOPATH="$gopath" GO111MODULE=off CGO_ENABLED=0 GOCACHE="$repo/build/kube-proxy-gocache" \
    "$go" build -o "$out.tmp" \
      -ldflags "-X $vendored/k8s.io/component-base/version.gitVersion=v1.20.2 -X $vendored/k8s.io/client-go/pkg/version.gitVersion=v1.20.2" \
      ./cmd/kube-proxy
)
mv "$out.tmp" "$out"
basename "$dir" > "$out.version"
echo "build-kube-proxy: built $out ($(basename "$dir")): $("$out" --version 2>&1)"
