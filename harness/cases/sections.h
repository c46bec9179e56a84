// The case file's sections, each read by its own file. Internal to the loader.
#pragma once

#include "harness/cases/addresses.h"
#include "harness/cases/yaml_reader.h"

namespace harness::cases {

// cluster: CIDRs, nodePortRange, nodes with their pods, externals.
void read_cluster(const Reader& r, const YAML::Node& n, Cluster& c, AddressBook& book);
// proxy: kube-proxy options; defaults depend on the cluster read before.
void read_proxy(const Reader& r, const YAML::Node& n, Cluster& c);
// objects: v1 Service and discovery.k8s.io/v1 EndpointSlice manifests.
void read_objects(const Reader& r, const YAML::Node& n, Cluster& c, AddressBook& book);
// One slice per Service with a selector and no explicit slice.
void derive_slices(Cluster& c);
// Pods that do not listen where their Services send: a warning each.
void check_listeners(const Reader& r, const Cluster& c);
// expect: the flows and what they must show; references resolve against `c`.
std::vector<Expectation> read_expectations(const Reader& r, const YAML::Node& n, const Cluster& c,
                                           const std::vector<GeneratorSpec>& generators);

}  // namespace harness::cases
