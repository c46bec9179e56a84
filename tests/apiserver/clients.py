#!/usr/bin/env python3
"""The official Python client (Debian's python3-kubernetes) against kpath's API
server, for tests/apiserver/clients_test.cc. Prints one line per finding.

  clients.py KUBECONFIG list                  Services and EndpointSlices (v1, v1beta1), one Node
  clients.py KUBECONFIG watch-services NAME   list, then watch until NAME is ADDED (exit 0)
  clients.py KUBECONFIG watch-slices NAME     list, then watch until slice NAME is MODIFIED (exit 0)
"""
import sys

from kubernetes import client, config, watch


def list_all(core):
    for s in core.list_service_for_all_namespaces().items:
        print("service", s.metadata.namespace, s.metadata.name, s.spec.cluster_ip, s.spec.type,
              ",".join(f"{p.port}:{p.node_port}/{p.protocol}" for p in s.spec.ports))
    for s in client.DiscoveryV1Api().list_endpoint_slice_for_all_namespaces().items:
        for e in s.endpoints:
            print("slice", s.metadata.name, s.address_type, e.addresses[0], e.node_name, e.conditions.ready)
    for s in client.DiscoveryV1beta1Api().list_endpoint_slice_for_all_namespaces().items:
        for e in s.endpoints:
            print("slice-v1beta1", s.metadata.name, e.addresses[0], e.topology.get("kubernetes.io/hostname"))
    for n in core.list_node().items:
        print("node", n.metadata.name, ",".join(a.address for a in n.status.addresses if a.type == "InternalIP"))


def watch_until(list_fn, name, wanted):
    listed = list_fn()
    print("listed", listed.metadata.resource_version, flush=True)
    w = watch.Watch()
    for event in w.stream(list_fn, resource_version=listed.metadata.resource_version, timeout_seconds=60):
        obj = event["object"]
        print("event", event["type"], obj.metadata.name, obj.metadata.resource_version, flush=True)
        if obj.metadata.name == name and event["type"] == wanted:
            w.stop()
            return 0
    return 1


def main():
    config.load_kube_config(config_file=sys.argv[1])
    core = client.CoreV1Api()
    mode = sys.argv[2]
    if mode == "list":
        list_all(core)
        return 0
    if mode == "watch-services":
        return watch_until(core.list_service_for_all_namespaces, sys.argv[3], "ADDED")
    if mode == "watch-slices":
        return watch_until(client.DiscoveryV1Api().list_endpoint_slice_for_all_namespaces, sys.argv[3], "MODIFIED")
    print("unknown mode", mode, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
