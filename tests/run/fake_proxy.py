#!/usr/bin/python3
"""A fake Service proxy for kpath's proxy: tests (standard library only).

Lists Services and EndpointSlices from $KPATH_API, then watches the slices and,
after every event, replaces an nft table `ip kpath_fake` that DNATs each
ClusterIP port to its ready endpoints at random. It logs one line per start
("started pid=N") and per event ("event TYPE NAME"), so a test can tell a
restart from a watch event.

  fake_proxy.py            the proxy
  fake_proxy.py --idle     starts, logs, installs nothing (never converges)
"""
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse


def log(*words):
    print(*words, flush=True)


def connect():
    url = urllib.parse.urlparse(os.environ["KPATH_API"])
    return http.client.HTTPConnection(url.hostname, url.port, timeout=300)


def get(path):
    c = connect()
    c.request("GET", path)
    r = c.getresponse()
    body = json.loads(r.read())
    if r.status != 200:
        raise SystemExit(f"GET {path}: {r.status} {body}")
    return body


def ruleset(services, slices):
    lines = ["table ip kpath_fake {",
             "  chain prerouting { type nat hook prerouting priority dstnat; jump services; }",
             "  chain output { type nat hook output priority -100; jump services; }"]
    rules, chains = [], []
    for svc in services.values():
        ip = svc["spec"].get("clusterIP")
        if not ip or ip == "None":
            continue
        for port in svc["spec"]["ports"]:
            eps = []
            for sl in slices.values():
                if sl["metadata"]["labels"].get("kubernetes.io/service-name") != svc["metadata"]["name"]:
                    continue
                target = next((p["port"] for p in sl.get("ports") or [] if p.get("name", "") == port.get("name", "")), None)
                for ep in sl.get("endpoints") or []:
                    if target and ep.get("conditions", {}).get("ready", True):
                        eps.append((ep["addresses"][0], target))
            if not eps:
                continue
            proto = port.get("protocol", "TCP").lower()
            names = []
            for addr, target in sorted(eps):
                name = f"ep-{len(chains)}"
                chains.append(f"  chain {name} {{ meta l4proto {proto} dnat to {addr}:{target}; }}")
                names.append(name)
            vmap = ", ".join(f"{i} : jump {n}" for i, n in enumerate(names))
            rules.append(f"    ip daddr {ip} {proto} dport {port['port']} numgen random mod {len(names)} vmap {{ {vmap} }}")
    lines.append("  chain services {")
    lines += rules
    lines.append("  }")
    lines += chains
    lines.append("}")
    return "\n".join(lines) + "\n"


def install(text):
    # Replace the table in one transaction: add (so delete cannot fail), delete, define.
    script = "table ip kpath_fake {}\ndelete table ip kpath_fake\n" + text
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)


def main():
    log(f"started pid={os.getpid()} node={os.environ.get('KPATH_NODE')}")
    if "--idle" in sys.argv:
        log("idle: installing nothing")
        while True:
            time.sleep(3600)
    services = {s["metadata"]["name"]: s for s in get("/api/v1/services")["items"]}
    listed = get("/apis/discovery.k8s.io/v1/endpointslices")
    slices = {s["metadata"]["name"]: s for s in listed["items"]}
    install(ruleset(services, slices))
    log(f"synced {len(slices)} slices")
    rv = listed["metadata"]["resourceVersion"]
    c = connect()
    c.request("GET", f"/apis/discovery.k8s.io/v1/endpointslices?watch=true&resourceVersion={rv}")
    r = c.getresponse()
    while True:
        line = r.readline()
        if not line:
            log("watch ended")
            return
        event = json.loads(line)
        obj = event["object"]
        log(f"event {event['type']} {obj['metadata'].get('name')}")
        if event["type"] == "DELETED":
            slices.pop(obj["metadata"]["name"], None)
        elif event["type"] in ("ADDED", "MODIFIED"):
            slices[obj["metadata"]["name"]] = obj
        install(ruleset(services, slices))


if __name__ == "__main__":
    main()
