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
// One object each, as `objects` reads them (manifest_files.cc): a v1 Service,
// a discovery.k8s.io/v1 EndpointSlice whose Service is read already.
void read_service_object(const Reader& r, const YAML::Node& on, Cluster& c, AddressBook& book);
void read_slice_object(const Reader& r, const YAML::Node& on, Cluster& c, const AddressBook& book);
// One slice per Service with a selector and no explicit slice.
void derive_slices(Cluster& c);
// Pods that do not listen where their Services send: a warning each.
void check_listeners(const Reader& r, const Cluster& c);
// expect: the flows and what they must show; references resolve against `c`.
std::vector<Expectation> read_expectations(const Reader& r, const YAML::Node& n, const Cluster& c,
                                           const std::vector<GeneratorSpec>& generators);

// Shared by the expectation readers (expect_section.cc, sweep_section.cc).
Source read_source(const Reader& r, const YAML::Node& n, const Cluster& c);
Verdict read_verdict(const Reader& r, const YAML::Node& n, const std::string& what);
void check_generator_key(const Reader& r, const YAML::Node& at, const std::string& key,
                         const std::vector<GeneratorSpec>& listed);
std::vector<EndpointChange> read_changes(const Reader& r, const YAML::Node& n, const Cluster& c,
                                         const std::string& what);
SourceExpectation read_source_expectation(const Reader& r, const YAML::Node& n);  // any | node | client
double read_false_failure_rate(const Reader& r, const YAML::Node& n);             // [1e-15, 0.01]
// An expectation with a `sweep:` key: every front door of the selected Services.
bool is_sweep(const YAML::Node& n);
Expectation read_sweep(const Reader& r, const YAML::Node& n, const Cluster& c,
                       const std::vector<GeneratorSpec>& generators);

}  // namespace harness::cases
