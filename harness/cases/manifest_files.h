// `objectsFrom:` — Kubernetes objects from the manifest files people keep:
// multi-document YAML, `kind: List` (`kubectl get svc,endpointslices -o yaml`,
// server-filled fields ignored) and Deployments, whose pods kpath places on the
// case's nodes. Errors name the manifest file's own lines. Internal to the loader.
#pragma once

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "harness/cases/addresses.h"

namespace harness::cases {

// The limits of one manifest file (docs/case-format.md, "Limits").
inline constexpr uint64_t kMaxManifestBytes = 256 << 20;
inline constexpr long kMaxManifestDocumentNodes = 20'000'000;  // a List is one document
inline constexpr int kMaxManifestFiles = 100;
inline constexpr int kMaxDeploymentReplicas = 1000;

class ManifestFiles {
 public:
  // Reads every file `list` names (relative paths against the case file's
  // folder): Services and Deployments (their pods join the cluster) at once,
  // EndpointSlices at once when their Service is known, later otherwise.
  ManifestFiles(const Reader& case_reader, const YAML::Node& list, Cluster& c, AddressBook& book);
  // The slices that named a Service read after them (in the case's own objects).
  void read_pending(Cluster& c, const AddressBook& book);
  // Every file's warnings, in file order.
  std::vector<Warning> take_warnings();

 private:
  void read_file(const Reader& case_reader, const YAML::Node& entry, Cluster& c, AddressBook& book);
  void read_document(const std::string& file, std::string_view text, int first_line, Cluster& c, AddressBook& book);
  void read_object(const Reader& r, const YAML::Node& on, Cluster& c, AddressBook& book, bool in_list);

  std::deque<Reader> readers_;  // one per document; pending slices point into it
  std::vector<std::pair<const Reader*, YAML::Node>> pending_;
};

}  // namespace harness::cases
