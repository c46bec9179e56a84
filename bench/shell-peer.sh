#!/usr/bin/env bash
# The shell peer of kpath's benchmark: the seed scenario
# (cases/seed-webapp1-nodeport.yaml) done the way a user without kpath would
# script it: `ip netns` namespaces and veths, the node's rules from the seed
# dump through iptables-restore, a forking socat server in each pod, and one
# `ip netns exec ... socat` per probe, the answers counted with sort | uniq -c.
# Needs root and socat. Creates only its own namespaces (kpath-peer-PID-*),
# removed on exit. Prints what it saw, then one JSON line:
#   {"probes": N, "setup_s": S, "probe_s": S, "total_s": S, "pass": true|false}
set -euo pipefail
cd "$(dirname "$0")/.."
command -v socat >/dev/null || { echo "shell-peer: needs socat (apt-get install socat)" >&2; exit 2; }

p=kpath-peer-$$
master=$p-master client=$p-client pod1=$p-pod1 pod2=$p-pod2
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for ns in $client $pod1 $pod2 $master; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now() { date +%s.%N; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
t0=$(now)

# The node and the external client on one link; each pod on its own veth,
# routed by /32, its gateway 169.254.1.1 the node's end of the veth (as
# Calico does: a permanent neighbour entry in the pod, proxy ARP on the node).
for ns in $master $client $pod1 $pod2; do ip netns add "$ns"; in_ns "$ns" ip link set lo up; done
ip -n "$master" link add eth0 type veth peer name eth0 netns "$client"
ip -n "$master" addr add 192.168.100.1/24 dev eth0
ip -n "$client" addr add 192.168.100.2/24 dev eth0
ip -n "$master" link set eth0 up
ip -n "$client" link set eth0 up
in_ns "$master" sysctl -qw net.ipv4.ip_forward=1
ip -n "$master" route add default dev eth0  # a ClusterIP needs a route before its DNAT
pod() {  # NS IP HOST_VETH
  ip -n "$master" link add "$3" type veth peer name eth0 netns "$1"
  ip -n "$1" addr add "$2/32" dev eth0
  ip -n "$1" link set eth0 up
  ip -n "$1" route add 169.254.1.1 dev eth0
  ip -n "$1" route add default via 169.254.1.1 dev eth0
  ip -n "$master" link set "$3" up
  in_ns "$master" sysctl -qw "net.ipv4.conf.$3.proxy_arp=1"
  ip -n "$1" neigh add 169.254.1.1 lladdr "$(ip -n "$master" -br link show "$3" | awk '{print $3}')" dev eth0 nud permanent
  ip -n "$master" route add "$2/32" dev "$3"
}
pod "$pod1" 10.32.0.3 cali1
pod "$pod2" 10.32.0.5 cali2
in_ns "$master" iptables-restore <cases/seed/webapp1-nodeport.iptables-save

# Each pod answers with its name and the address it saw the client at.
serve() {  # NS NAME
  ip netns exec "$1" socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:"echo $2 \$SOCAT_PEERADDR" &  # $! is socat
  pids+=($!)
}
serve "$pod1" webapp1-cjc5b
serve "$pod2" webapp1-tpfqr
for ns in $pod1 $pod2; do
  until in_ns "$ns" socat -T1 - TCP:127.0.0.1:80,connect-timeout=1 </dev/null >/dev/null 2>&1; do sleep 0.05; done
done
t1=$(now)

# probe FROM_NS IP PORT COUNT: one line per probe, the answer or "refused".
probe() {
  for ((i = 0; i < $4; i++)); do
    in_ns "$1" socat -T1 - "TCP:$2:$3,connect-timeout=1" </dev/null 2>/dev/null || echo refused
  done
}
ok=true
check() {  # NAME COUNTS_FILE AWK_CONDITION
  if awk "$3" "$2"; then echo "PASS $1"; else echo "FAIL $1"; ok=false; fi
  sed 's/^/    /' "$2"
}
out=$(mktemp -d)
trap 'cleanup; rm -rf "$out"' EXIT  # INT and TERM exit, which runs it
probe "$client" 192.168.100.1 30080 2000 | sort | uniq -c >"$out/1"
probe "$pod1" 10.103.188.73 80 400 | sort | uniq -c >"$out/2"
probe "$master" 10.103.188.73 80 200 | sort | uniq -c >"$out/3"
probe "$client" 192.168.100.1 30081 20 | sort | uniq -c >"$out/4"
t2=$(now)

# Both pods within 5 standard deviations of half, the source the node.
check "external client reaches both pods through the NodePort, source the node" "$out/1" \
  '$3 == "192.168.100.1" && $1 > 888 && $1 < 1112 { n++ } END { exit !(n == 2 && NR == 2) }'
check "a pod reaches both pods through the ClusterIP" "$out/2" \
  '$2 ~ /^webapp1-/ && $1 > 155 && $1 < 245 { n++ } END { exit !(n == 2 && NR == 2) }'
check "the node reaches the ClusterIP, masqueraded" "$out/3" \
  '$2 ~ /^webapp1-/ && $3 == "192.168.100.1" { n += $1 } END { exit !(n == 200) }'
check "a node port no Service uses is refused" "$out/4" '$2 == "refused" { n += $1 } END { exit !(n == 20) }'
t3=$(now)
python3 -c 'import json, sys; t0, t1, t2, t3 = map(float, sys.argv[1:5]); print(json.dumps({"probes": 2620,
  "setup_s": round(t1 - t0, 3), "probe_s": round(t2 - t1, 3), "total_s": round(t3 - t0, 3), "pass": sys.argv[5] == "true"}))' \
  "$t0" "$t1" "$t2" "$t3" "$ok"
$ok
