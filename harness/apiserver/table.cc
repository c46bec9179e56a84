#include "harness/apiserver/table.h"

#include <ctime>

#include "base/strings.h"

namespace harness::apiserver {

namespace {

struct Column {
  std::string name;
  int priority = 0;  // 1: only with -o wide
};

std::vector<Column> columns_for(const std::string& plural) {
  if (plural == "services")
    return {{"Name"}, {"Type"}, {"Cluster-IP"}, {"External-IP"}, {"Port(s)"}, {"Age"}, {"Selector", 1}};
  if (plural == "endpointslices") return {{"Name"}, {"AddressType"}, {"Ports"}, {"Endpoints"}, {"Age"}};
  if (plural == "endpoints") return {{"Name"}, {"Endpoints"}, {"Age"}};
  if (plural == "nodes")
    return {{"Name"},
            {"Status"},
            {"Roles"},
            {"Age"},
            {"Version"},
            {"Internal-IP", 1},
            {"External-IP", 1},
            {"OS-Image", 1},
            {"Kernel-Version", 1},
            {"Container-Runtime", 1}};
  return {{"Name"}, {"Age"}};
}

// The first three, then "+ N more...", as kubectl's printers shorten lists.
std::string first_three(const std::vector<std::string>& v, const std::string& none) {
  if (v.empty()) return none;
  if (v.size() <= 3) return kpath::join(v, ",");
  return kpath::join({v.begin(), v.begin() + 3}, ",") + " + " + std::to_string(v.size() - 3) + " more...";
}

std::vector<std::string> string_list(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& s : j) out.push_back(s.get<std::string>());
  return out;
}

std::string service_external_ip(const Json& spec, const Json& status) {
  std::vector<std::string> ips;
  std::string type = spec.value("type", "ClusterIP");
  if (type == "LoadBalancer" && status.contains("loadBalancer") && status["loadBalancer"].contains("ingress"))
    for (const auto& i : status["loadBalancer"]["ingress"]) ips.push_back(i.value("ip", i.value("hostname", "")));
  for (const auto& ip : string_list(spec.value("externalIPs", Json::array()))) ips.push_back(ip);
  if (ips.empty()) return type == "LoadBalancer" ? "<pending>" : "<none>";
  return kpath::join(ips, ",");
}

std::string service_ports(const Json& spec) {
  std::vector<std::string> out;
  for (const auto& p : spec.value("ports", Json::array())) {
    std::string s = std::to_string(p["port"].get<int>());
    if (p.contains("nodePort")) s += ":" + std::to_string(p["nodePort"].get<int>());
    out.push_back(s + "/" + p.value("protocol", "TCP"));
  }
  return out.empty() ? "<none>" : kpath::join(out, ",");
}

std::string selector_string(const Json& spec) {
  std::vector<std::string> out;
  Json selector = spec.value("selector", Json::object());
  for (const auto& [k, v] : selector.items()) out.push_back(k + "=" + v.get<std::string>());
  return out.empty() ? "<none>" : kpath::join(out, ",");
}

Json service_cells(const Json& o, const std::string& age) {
  const Json& spec = o["spec"];
  return {o["metadata"]["name"],
          spec.value("type", "ClusterIP"),
          spec.value("clusterIP", "<none>"),
          service_external_ip(spec, o.value("status", Json::object())),
          service_ports(spec),
          age,
          selector_string(spec)};
}

Json slice_cells(const Json& o, const std::string& age) {
  std::vector<std::string> ports, addresses;
  for (const auto& p : o.value("ports", Json::array()))
    ports.push_back(p.contains("port") ? std::to_string(p["port"].get<int>()) : p.value("name", "*"));
  for (const auto& e : o.value("endpoints", Json::array()))
    for (const auto& a : e["addresses"]) addresses.push_back(a.get<std::string>());
  return {o["metadata"]["name"], o.value("addressType", ""), first_three(ports, "<unset>"),
          first_three(addresses, "<unset>"), age};
}

std::string host_port(const std::string& ip, int port) {
  return (ip.find(':') == std::string::npos ? ip : "[" + ip + "]") + ":" + std::to_string(port);
}

Json endpoints_cells(const Json& o, const std::string& age) {
  std::vector<std::string> out;
  for (const auto& ss : o.value("subsets", Json::array())) {
    Json ports = ss.value("ports", Json::array());
    for (const auto& a : ss.value("addresses", Json::array())) {
      if (ports.empty()) out.push_back(a["ip"].get<std::string>());
      for (const auto& p : ports) out.push_back(host_port(a["ip"].get<std::string>(), p["port"].get<int>()));
    }
  }
  return {o["metadata"]["name"], first_three(out, "<none>"), age};
}

Json node_cells(const Json& o, const std::string& age) {
  std::string internal = "<none>";
  for (const auto& a : o["status"].value("addresses", Json::array()))
    if (a["type"] == "InternalIP" && internal == "<none>") internal = a["address"].get<std::string>();
  return {o["metadata"]["name"], "Ready", "<none>", age, "", internal, "<none>", "<unknown>", "<unknown>", "<unknown>"};
}

long long epoch_seconds(const std::string& rfc3339) {
  std::tm tm{};
  if (!strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
  return timegm(&tm);
}

Json cells_of(const std::string& plural, const Json& o, const std::string& now) {
  std::string created = o["metadata"].value("creationTimestamp", "");
  std::string age = created.empty() ? "<unknown>" : human_duration(epoch_seconds(now) - epoch_seconds(created));
  if (plural == "services") return service_cells(o, age);
  if (plural == "endpointslices") return slice_cells(o, age);
  if (plural == "endpoints") return endpoints_cells(o, age);
  if (plural == "nodes") return node_cells(o, age);
  return {o["metadata"]["name"], age};
}

}  // namespace

std::string human_duration(long long s) {
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  auto with = [](long long a, const char* ua, long long b, const char* ub) {
    return std::to_string(a) + ua + (b ? std::to_string(b) + ub : "");
  };
  long long m = s / 60, h = s / 3600, d = h / 24;
  if (s < 120) return std::to_string(s) + "s";
  if (m < 10) return with(m, "m", s % 60, "s");
  if (m < 180) return std::to_string(m) + "m";
  if (h < 8) return with(h, "h", m % 60, "m");
  if (h < 48) return std::to_string(h) + "h";
  if (d < 8) return with(d, "d", h % 24, "h");
  if (d < 730) return std::to_string(d) + "d";
  if (d < 2920) return with(d / 365, "y", d % 365, "d");
  return std::to_string(d / 365) + "y";
}

Json table_of(const Resource& r, const std::vector<Json>& objects, const std::string& now, bool full_objects) {
  Json columns = Json::array();
  for (const auto& c : columns_for(r.plural)) {
    Json col = {{"name", c.name},
                {"type", "string"},
                {"format", c.name == "Name" ? "name" : ""},
                {"description", ""},
                {"priority", c.priority}};
    columns.push_back(col);
  }
  Json rows = Json::array();
  for (const auto& o : objects) {
    Json object = full_objects ? o
                               : Json{{"kind", "PartialObjectMetadata"},
                                      {"apiVersion", "meta.k8s.io/v1"},
                                      {"metadata", o["metadata"]}};
    rows.push_back({{"cells", cells_of(r.plural, o, now)}, {"object", object}});
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", Json::object()},
          {"columnDefinitions", columns},
          {"rows", rows}};
}

}  // namespace harness::apiserver
