#!/usr/bin/env bash
# SIGKILLs `kpath run` at random moments, N times (default 20): while it builds
# the topology, installs rules or sends traffic. After every kill nothing of
# it may be left: no pinned kpath namespace, no process it started (the
# programs it runs on nodes die with their sandbox), and the root namespace's links, addresses,
# routes and rulesets as they were before the loop. Then one SIGINT: kpath
# must stop with 130 and still write a JUnit file listing what ran.
#   ci/kill-loop.sh [N] [CASES...]       (KPATH=path/to/kpath, default build/kpath)
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib/host-snapshot.sh
KPATH=${KPATH:-build/kpath}
n=${1:-20}
shift || true
cases=("$@")
[[ ${#cases[@]} -gt 0 ]] || cases=(cases/)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

now_ms() { date +%s%3N; }

# Starts kpath with a mark in its environment, which every process it starts
# inherits, so leftovers are found after it is gone (the programs it runs on
# nodes lead process groups of their own). Sets $pid (not a $(...) subshell:
# the shell must stay its parent to wait for it).
start_kpath() {  # args: extra kpath run arguments
  mark="kpath-kill-loop-$$-$attempts"
  KPATH_KILL_LOOP_MARK=$mark setsid "$KPATH" run "$@" "${cases[@]}" >"$work/run.out" 2>"$work/run.err" &
  pid=$!
}

# Waits up to 3 s for a condition command to succeed.
wait_until() {
  local deadline=$(($(now_ms) + 3000))
  until "$@"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.02
  done
}

marked_pids() { grep -lzx "KPATH_KILL_LOOP_MARK=$mark" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 || true; }
marked_gone() { [[ -z $(marked_pids) ]]; }
no_pins_of() { ! compgen -G "/run/netns/kpath-$1-*" >/dev/null; }
no_root_veth() { [[ -z $(ip -o link show type veth) ]]; }
host_as_before() { host_snapshot >"$work/after" && cmp -s "$work/before" "$work/after"; }

# The suite's own duration sets the range of kill moments. Whether it passes
# is repeat-suite.sh's question; here it only has to run to the end.
host_snapshot >"$work/before"
veths_before=$(ip -o link show type veth | wc -l)
t0=$(now_ms)
baseline=0
"$KPATH" run "${cases[@]}" >"$work/baseline.out" 2>&1 || baseline=$?
duration=$(($(now_ms) - t0))
if ((baseline != 0 && baseline != 1)); then
  cat "$work/baseline.out"
  echo "kill-loop: the suite did not run to the end without any kill (exit $baseline)" >&2
  exit 1
fi
((baseline == 0)) || echo "note: the uninterrupted suite had failing expectations (exit 1); see ci/repeat-suite.sh"
echo "suite takes ${duration} ms; killing at random moments between 5 and ${duration} ms (half log-uniform, half uniform)"

moments=()
kills=0 survived=0 leftovers=0 finished_first=0 attempts=0
while ((kills < n && attempts < 3 * n)); do
  attempts=$((attempts + 1))
  # Between 5 ms and the duration: every other kill log-uniform, so the first
  # milliseconds (feature probe, first topology, first rules) get their share;
  # the others uniform, spread over the runs and their traffic.
  u=$(((RANDOM << 15) | RANDOM))  # uniform in [0, 2^30)
  delay=$(awk -v u="$u" -v max="$duration" -v log_scale=$((attempts % 2)) 'BEGIN {
    if (max < 6) max = 6; f = u / 2^30
    printf "%d", log_scale ? 5 * exp(f * log(max / 5)) : 5 + f * (max - 5) }')
  start_kpath
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  if ! kill -0 "$pid" 2>/dev/null; then
    { wait "$pid"; } 2>/dev/null || true
    finished_first=$((finished_first + 1))
    continue
  fi
  kill -KILL "$pid"
  { wait "$pid"; } 2>/dev/null || true  # no "Killed" job notice
  kills=$((kills + 1))
  moments+=("$delay")
  problems=()
  wait_until marked_gone || problems+=("processes left: $(marked_pids | tr '\n' ' ')")
  no_pins_of "$pid" || problems+=("pinned namespaces left under /run/netns")
  ((veths_before > 0)) || no_root_veth || problems+=("veth in the root namespace")
  wait_until host_as_before || problems+=("root namespace changed: $(diff "$work/before" "$work/after" | head -20 || true)")
  if ((${#problems[@]})); then
    leftovers=$((leftovers + 1))
    printf 'kill %d at %d ms left something behind:\n' "$kills" "$delay"
    printf '  %s\n' "${problems[@]}"
  else
    survived=$((survived + 1))
  fi
done

# SIGINT after the first run reported: kpath finishes what is in flight and
# writes the JUnit report of every planned run, the unrun ones skipped with
# the reason "interrupted".
junit=$work/sigint.xml
start_kpath -j 1 --junit "$junit"
wait_until grep -q '^\[1/' "$work/run.err" || true
kill -INT "$pid" 2>/dev/null || true  # a short suite may be done already
sigint_status=0
wait "$pid" || sigint_status=$?
reported=$(grep -c '^\[[0-9]*/' "$work/run.err" || true)
planned=$(sed -n 's/^kpath: .* \([0-9]*\) run(s)$/\1/p' "$work/run.err")
suites=$(grep -c '<testsuite ' "$junit" 2>/dev/null || true)
unrun=$(grep -c 'skipped message="interrupted"' "$junit" 2>/dev/null || true)
sigint=ok
if [[ $sigint_status -ne 130 ]]; then sigint="exit $sigint_status (want 130)"; fi
if [[ ! -s $junit ]]; then sigint="no JUnit file"; elif [[ $suites -ne $planned || $suites -eq 0 ]]; then
  sigint="JUnit lists $suites runs, kpath planned $planned"
elif [[ $reported -lt $planned && $unrun -eq 0 ]]; then
  sigint="$((planned - reported)) runs did not run, but no expectation is skipped as interrupted"
fi

sorted=($(printf '%s\n' "${moments[@]}" | sort -n))
echo "kill moments (ms after start): ${sorted[*]}"
echo "kill-loop: $kills kills survived: $survived, leftovers: $leftovers; $finished_first runs finished before their kill; SIGINT: $sigint (exit $sigint_status, $suites runs in JUnit)"
[[ $kills -eq $n && $leftovers -eq 0 && $sigint == ok ]]
