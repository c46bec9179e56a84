#!/usr/bin/env bash
# Fuzzes the case loader with libFuzzer for SECONDS (default 60), seeded with the
# bad-input corpus and the bundled cases. Any crash, sanitizer report or
# exception other than kpath::Error fails the run; the input lands in $OUT.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${OUT:-$(mktemp -d -t kpath-fuzz.XXXXXX)}"
cxx="${CXX_FUZZ:-clang++-14}"
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (ci/install-deps.sh installs clang)" >&2; exit 1; }

mkdir -p "$out/corpus"
"$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" "$root/tests/fuzz/case_loader_fuzz.cc" "$root"/harness/cases/*.cc \
  "$root"/harness/model/*.cc "$root"/base/*.cc -lyaml-cpp -o "$out/case_loader_fuzz"

cd "$out"
# New inputs go to $out/corpus; the seed folders stay untouched.
./case_loader_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/" corpus "$root/tests/cases/bad" "$root/cases"
if [[ -z "${OUT:-}" ]]; then
  cd / && rm -rf "$out"  # nothing found: nothing worth keeping
  echo "fuzz: no findings in ${seconds}s"
else
  echo "fuzz: no findings in ${seconds}s (corpus and binary in $out)"
fi
