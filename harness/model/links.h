// The names of the links kpath's topology gives a pod, stated once: the
// topology names them so, and programs under test learn them from the model
// JSON (a CNI plugin or an eBPF proxy finds a pod by its node-side link).
#pragma once

#include <map>
#include <string>

#include "harness/model/model.h"

namespace harness {

// The pod's end of its veth, in the pod's namespace.
inline constexpr const char* kPodLink = "eth0";

// The node's end of the veth of the node's index-th pod (counted in the
// case's order of pods).
std::string pod_node_link(int index_on_node);

// Every pod's node-side link name, by pod name.
std::map<std::string, std::string> pod_node_links(const Cluster& cluster);

}  // namespace harness
