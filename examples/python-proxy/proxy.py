#!/usr/bin/python3
"""A small Service proxy for kpath's proxy: generator, on python3-kubernetes.

Watches Services and EndpointSlices through $KUBECONFIG and, after every
change, replaces one nft table (`ip kpath-pyproxy`) in a single transaction:
ClusterIP and NodePort traffic is DNATed to a ready endpoint chosen at random
(numgen). On purpose it does no more than that, so some bundled cases fail:
no masquerading (a NodePort answered from another node's endpoint breaks),
no externalTrafficPolicy: Local, no session affinity, no rejects for Services
without endpoints. See README.md for the outcomes a test checks.

    kpath run --generator "proxy,mode=none:/usr/bin/python3 examples/python-proxy/proxy.py" CASES
"""
import os
import subprocess
import sys
import threading

from kubernetes import client, config, watch

TABLE = "kpath-pyproxy"


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.services = {}  # (ns, name) -> V1Service
        self.slices = {}    # (ns, name) -> V1EndpointSlice

    def set(self, kind, obj, deleted):
        key = (obj.metadata.namespace, obj.metadata.name)
        with self.lock:
            table = self.services if kind == "service" else self.slices
            if deleted:
                table.pop(key, None)
            else:
                table[key] = obj
            return render(self.services, self.slices)


def endpoints_for(svc, port, slices):
    """Ready endpoints of a Service port: (address, target port)."""
    out = []
    for sl in slices.values():
        labels = sl.metadata.labels or {}
        if sl.metadata.namespace != svc.metadata.namespace or \
                labels.get("kubernetes.io/service-name") != svc.metadata.name or sl.address_type != "IPv4":
            continue
        target = next((p.port for p in sl.ports or [] if (p.name or "") == (port.name or "")), None)
        for ep in sl.endpoints or []:
            ready = ep.conditions is None or ep.conditions.ready is not False
            if target and ready:
                out.append((ep.addresses[0], target))
    return sorted(out)


def render(services, slices):
    rules, chains = [], []
    for svc in services.values():
        spec = svc.spec
        for port in spec.ports or []:
            eps = endpoints_for(svc, port, slices)
            if not eps:
                continue
            proto = (port.protocol or "TCP").lower()
            names = []
            for addr, target in eps:
                name = f"ep-{len(chains)}"
                chains.append(f"  chain {name} {{ meta l4proto {proto} dnat to {addr}:{target}; }}")
                names.append(name)
            pick = f"numgen random mod {len(names)} vmap {{ " + \
                ", ".join(f"{i} : jump {n}" for i, n in enumerate(names)) + " }"
            if spec.cluster_ip and spec.cluster_ip != "None":
                rules.append(f"    ip daddr {spec.cluster_ip} {proto} dport {port.port} {pick}")
            if port.node_port:
                rules.append(f"    fib daddr type local {proto} dport {port.node_port} {pick}")
    return "\n".join([
        f"table ip {TABLE} {{",
        "  chain prerouting { type nat hook prerouting priority dstnat; jump services; }",
        "  chain output { type nat hook output priority -100; jump services; }",
        "  chain services {", *rules, "  }", *chains, "}"]) + "\n"


def install(text):
    # One transaction: create (so the delete cannot fail), delete, define.
    script = f"table ip {TABLE} {{}}\ndelete table ip {TABLE}\n{text}"
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)
    print(f"synced {text.count(' dnat to ')} endpoint rules", flush=True)


def follow(kind, list_call, state, ready):
    """List then watch forever, re-listing when a watch ends."""
    while True:
        listed = list_call()
        for obj in listed.items:
            state.set(kind, obj, deleted=False)
        ready.set()
        stream = watch.Watch().stream(list_call, resource_version=listed.metadata.resource_version,
                                      timeout_seconds=300)
        for event in stream:
            print(f"{kind} {event['type']} {event['object'].metadata.name}", flush=True)
            install(state.set(kind, event["object"], deleted=event["type"] == "DELETED"))


def main():
    config.load_kube_config()
    core, discovery = client.CoreV1Api(), client.DiscoveryV1Api()
    state = State()
    lists = {"service": core.list_service_for_all_namespaces,
             "slice": discovery.list_endpoint_slice_for_all_namespaces}
    ready = {kind: threading.Event() for kind in lists}
    for kind, call in lists.items():
        threading.Thread(target=follow, args=(kind, call, state, ready[kind]), daemon=True).start()
    for event in ready.values():
        event.wait()
    with state.lock:
        install(render(state.services, state.slices))
    print(f"python-proxy on {os.environ.get('KPATH_NODE')}: running", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
