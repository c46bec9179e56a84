#!/usr/bin/env python3
# An exec: generator that checks what kpath's contract gives a program
# (docs/generators.md, "The model") before it prints the seed case's rules:
# every pod's namespace opens at its path and holds the pod's IPs on its link,
# the node's own namespace path is the one the program runs in, each local
# pod's node-side link exists, and the run's scratch directory is writable.
import json
import os
import subprocess
import sys


def fail(message):
    print("exec_contract: " + message, file=sys.stderr)
    sys.exit(1)


def run(*argv):
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        fail(" ".join(argv) + ": " + r.stderr.strip())
    return r.stdout


model = json.load(sys.stdin)
node = model["node"]
scratch = model["scratch"]
if not scratch or not os.path.isdir(scratch):
    fail("no scratch directory: %r" % scratch)
with open(os.path.join(scratch, node + ".seen"), "w") as f:
    f.write("ok")
own = [n for n in model["nodes"] if n["name"] == node][0]
if os.readlink(own["netns"]) != os.readlink("/proc/self/ns/net"):
    fail("the node's netns path is not the node's namespace")
for pod in model["pods"]:
    addresses = run("nsenter", "--net=" + pod["netns"], "ip", "-o", "addr", "show", "dev", pod["links"]["pod"])
    for ip in pod["ips"]:
        if " " + ip + "/" not in addresses:
            fail("%s: %s not on %s: %s" % (pod["name"], ip, pod["links"]["pod"], addresses))
    if pod["node"] == node:
        run("ip", "link", "show", "dev", pod["links"]["node"])
for external in model["externals"]:
    run("nsenter", "--net=" + external["netns"], "true")
with open(sys.argv[1]) as f:
    sys.stdout.write(f.read())
