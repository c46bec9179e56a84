#!/usr/bin/env python3
"""Writes a scale case for ci/bench-scale.sh: SERVICES NodePort Services, each
with ENDPOINTS endpoints on the same few shared pods (so 10,000 Services x 5
endpoints are 50,000 endpoint addresses in the rules but 5 pods on the kernel),
and one sweep expectation probing every front door (each ClusterIP, each
NodePort on each node) once from an external client.

The objects go to a multi-document manifest beside the case (objectsFrom), one
Service and one EndpointSlice per document, as `kubectl get -o yaml` users keep
them; --derived leaves the slices out and lets kpath derive them from selectors.
"""
import argparse
import ipaddress
import os


def case_text(name, services, nodes, pods, generator, manifest):
    lines = [
        "apiVersion: kpath/v1",
        "kind: Case",
        f"name: {name}",
        f"description: {services} NodePort Services on {pods} shared pods, every front door probed once",
    ]
    if generator:
        lines.append(f"generator: {generator}")
    lines += [
        "cluster:",
        "  podCIDR: 10.32.0.0/12",
        "  serviceCIDR: 10.96.0.0/12",
        f"  nodePortRange: 20000-{max(20000 + services - 1, 32767)}",
        "  nodes:",
    ]
    for n in range(nodes):
        lines += [f"    - name: node-{n}", f"      ip: 192.168.100.{n + 1}", f"      podCIDR: 10.32.{n}.0/24",
                  "      pods:"]
        for p in range(pods):
            if p % nodes != n:
                continue
            lines += [f"        - name: web-{p}", f"          ip: 10.32.{n}.{p + 10}", "          labels: {app: web}",
                      "          listen: [{port: 8080}]"]
    lines += [
        "  externals:",
        "    - name: client",
        "      ip: 192.168.100.200",
        f"objectsFrom: [{manifest}]",
        "expect:",
        "  - name: every front door answers",
        "    from: client",
        "    sweep: {services: all, doors: [clusterIP, nodePort]}",
        "    probes: 1",
        "",
    ]
    return "\n".join(lines)


def cluster_ip(i):
    # 10.96.0.1 onwards; the network address is never allocated.
    return str(ipaddress.ip_address("10.96.0.0") + i + 1)


def manifest_text(services, nodes, pods, endpoints, derived):
    docs = []
    pod_ips = [(f"web-{p}", f"10.32.{p % nodes}.{p + 10}", f"node-{p % nodes}") for p in range(pods)]
    for i in range(services):
        name = f"svc-{i}"
        docs.append(
            f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: scale}}\n"
            f"spec:\n  type: NodePort\n  clusterIP: {cluster_ip(i)}\n  selector: {{app: web}}\n"
            f"  ports: [{{port: 80, targetPort: 8080, nodePort: {20000 + i}}}]\n")
        if derived:
            continue
        eps = "".join(
            f"  - addresses: [{ip}]\n    nodeName: {node}\n    targetRef: {{kind: Pod, name: {pod}}}\n"
            for pod, ip, node in (pod_ips[(i + k) % pods] for k in range(endpoints)))
        docs.append(
            f"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
            f"metadata:\n  name: {name}-abcde\n  namespace: scale\n  labels: {{kubernetes.io/service-name: {name}}}\n"
            f"addressType: IPv4\nports: [{{port: 8080, protocol: TCP}}]\nendpoints:\n{eps}")
    return "---\n".join(docs)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--services", type=int, required=True)
    ap.add_argument("--endpoints", type=int, default=5, help="endpoints per Service (at most --pods)")
    ap.add_argument("--pods", type=int, default=5)
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--generator", default="", help="pin a generator (default: the built-ins)")
    ap.add_argument("--derived", action="store_true", help="no EndpointSlices: kpath derives them")
    ap.add_argument("--out", required=True, help="folder to write NAME.yaml and NAME-objects.yaml into")
    a = ap.parse_args()
    if a.endpoints > a.pods:
        ap.error("--endpoints must be at most --pods (endpoints are the shared pods)")
    name = f"scale-{a.services}"
    os.makedirs(a.out, exist_ok=True)
    manifest = f"{name}-objects.yaml"
    with open(os.path.join(a.out, manifest), "w") as f:
        f.write(manifest_text(a.services, a.nodes, a.pods, a.endpoints, a.derived))
    path = os.path.join(a.out, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(case_text(name, a.services, a.nodes, a.pods, a.generator, manifest))
    print(path)


if __name__ == "__main__":
    main()
