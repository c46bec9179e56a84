#!/usr/bin/env bash
# The scale benchmark (needs root; not a test): for each size, a case of that
# many NodePort Services x 5 endpoints on 5 shared pods (tests/bench/scale_case.py)
# whose one sweep expectation probes every front door once, run through each
# built-in generator as a whole `kpath run` process. Prints per point the wall
# time, the install time (every node's rules in), the sweep time (every door
# probed) and the peak RSS, as a table and one JSON line each.
#
#   SIZES="100 1000" GENERATORS=kube-nftables KPATH=build/kpath ci/bench-scale.sh
#
# Peak RSS is GNU time's: the largest of kpath and each program it ran and
# waited for (iptables-restore, nft), not their sum.
set -euo pipefail
cd "$(dirname "$0")/.."
KPATH=${KPATH:-build/kpath}
SIZES=${SIZES:-"100 1000 5000 10000"}
GENERATORS=${GENERATORS:-"kube-iptables kube-nftables"}
[ -x "$KPATH" ] || ci/build.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

point() {  # SERVICES GENERATOR: runs one point, prints its JSON line
  local n=$1 g=$2 rc=0
  /usr/bin/time -v -o "$work/time" "$KPATH" run -g "$g" --json "$work/report.json" "$work/scale-$n.yaml" \
    >"$work/out" 2>&1 || rc=$?
  python3 - "$n" "$g" "$rc" "$work/report.json" "$work/time" "$work/out" <<'PY'
import json, re, sys
n, g, rc, report, timing, out = sys.argv[1:]
t = open(timing).read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", t)
wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
# CPU time (kpath and the programs it waited for): on a shared, loaded machine
# wall time is mostly waiting for a core, CPU time is the work.
cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", t).group(1)) for k in ("User", "System"))
point = {"services": int(n), "generator": g, "exit": int(rc), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
         "peak_rss_mb": round(rss_kb / 1024, 1)}
try:
    run = json.load(open(report))["runs"][0]
    e = run["expectations"][0]
    point.update(status=run["status"], install_s=round(run["timings_s"]["install"], 2),
                 build_s=round(run["timings_s"]["build"], 2), sweep_s=round(e.get("elapsed_s", 0), 2),
                 probes=run["probes"], summary=e.get("summary", run.get("error", "")))
except Exception as err:  # a run that did not get as far as a report
    point.update(status="ERROR", summary=f"{err}: " + open(out).read()[-400:])
print(json.dumps(point))
PY
}

echo "kpath scale benchmark: $(nproc) cores, $(uname -r), sizes: $SIZES, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $SIZES; do
  python3 tests/bench/scale_case.py --services "$n" --out "$work" >/dev/null
  for g in $GENERATORS; do point "$n" "$g"; done
done >"$work/points"
python3 - "$work/points" <<'PY'
import json, sys
points = [json.loads(line) for line in open(sys.argv[1])]
print(f"{'services':>8} {'generator':<14} {'status':<6} {'wall s':>7} {'cpu s':>7} {'install s':>9} {'sweep s':>8} "
      f"{'peak MB':>8} {'probes':>7}")
for p in points:
    print(f"{p['services']:>8} {p['generator']:<14} {p['status']:<6} {p['wall_s']:>7} {p['cpu_s']:>7} {p.get('install_s', '-'):>9} "
          f"{p.get('sweep_s', '-'):>8} {p['peak_rss_mb']:>8} {p.get('probes', '-'):>7}  {p['summary'][:100]}")
print()
for p in points:
    print(json.dumps(p))
PY
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
