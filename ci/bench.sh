#!/usr/bin/env bash
# Builds kpath and runs its benchmark (needs root): in one run, kpath's probe
# rates (TCP and UDP through NodePort DNAT) against the bare reference loop
# (bench/raw_loop.cc) with 1 and 2 threads, the pods' UDP receive-buffer
# drops, the topology build, and the seed case as a whole `kpath run` process
# against the shell peer (bench/shell-peer.sh). Prints one table (median, min,
# max over the repeats; ratios within a repeat) and writes it as JSON.
#
#   REPEATS=3 BENCH_JSON=build/bench.json PEER=1 ci/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ci/build.sh
args=(--kpath build/kpath --raw build/bench/kpath_raw_loop --peer bench/shell-peer.sh
  --json "${BENCH_JSON:-build/bench.json}" --repeats "${REPEATS:-3}")
[[ ${PEER:-1} == 0 ]] && args+=(--no-peer)
exec build/tests/kpath_bench "${args[@]}"
