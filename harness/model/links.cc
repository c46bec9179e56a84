#include "harness/model/links.h"

namespace harness {

std::string pod_node_link(int index_on_node) { return "veth" + std::to_string(index_on_node); }

std::map<std::string, std::string> pod_node_links(const Cluster& cluster) {
  std::map<std::string, int> pods_on_node;
  std::map<std::string, std::string> links;
  for (const auto& pod : cluster.pods) links[pod.name] = pod_node_link(pods_on_node[pod.node]++);
  return links;
}

}  // namespace harness
