// The case's objects as the Kubernetes API serves them: Services, EndpointSlices
// (discovery.k8s.io/v1; v1beta1 is converted from it when served), Endpoints
// derived from the slices, and Nodes. Objects come without the metadata the
// store owns (resourceVersion, uid, creationTimestamp).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/model/model.h"

namespace harness::apiserver {

using Json = nlohmann::json;

// Where the store keeps a kind; discovery.k8s.io/v1beta1 EndpointSlices are
// the v1 ones converted on the way out.
enum class Bucket { Nodes, Services, EndpointSlices, Endpoints };
inline constexpr Bucket kBuckets[] = {Bucket::Nodes, Bucket::Services, Bucket::EndpointSlices, Bucket::Endpoints};
std::string to_string(Bucket b);  // "services"

// (namespace, name); namespace is "" for Nodes. Ordered as etcd orders keys.
using ObjectKey = std::pair<std::string, std::string>;
using Objects = std::map<ObjectKey, Json>;
using ObjectSet = std::map<Bucket, Objects>;

Json service_json(const Service& s);
// One served slice per address family in the model slice (a served slice has
// one addressType); the second family's slice is named "<name>-ipv6" or "-ipv4".
std::vector<Json> slice_json(const EndpointSlice& slice, const Service* service);
// The core/v1 Endpoints the endpoints controller keeps for a Service: ready
// addresses, notReadyAddresses, terminating endpoints left out; one subset per
// distinct port list.
Json endpoints_json(const Service& s, const std::vector<const EndpointSlice*>& slices);
Json node_json(const Node& n);

// Every object the cluster serves, by bucket.
ObjectSet objects_of(const Cluster& cluster);

// A discovery.k8s.io/v1 EndpointSlice as discovery.k8s.io/v1beta1 serves it:
// nodeName and zone also as `topology` (kubernetes.io/hostname,
// topology.kubernetes.io/zone), which kube-proxy 1.20 reads for locality.
Json slice_v1_to_v1beta1(const Json& v1);

// Labels and selectable fields of a served object.
std::map<std::string, std::string> labels_of(const Json& object);
std::map<std::string, std::string> fields_of(const Json& object);

// A stable UID (UUID-shaped) from the kind, namespace and name.
std::string uid_for(const std::string& kind, const ObjectKey& key);

// A Kubernetes Status object (kind Status, apiVersion v1).
Json status_json(int code, const std::string& reason, const std::string& message, const Json& details = Json::object());

}  // namespace harness::apiserver
