#include "harness/cases/manifest_files.h"

#include <filesystem>
#include <set>

#include "base/error.h"
#include "base/file.h"
#include "harness/cases/case_loader.h"
#include "harness/cases/document_checks.h"
#include "harness/cases/sections.h"

namespace harness::cases {

namespace {

namespace fs = std::filesystem;

YAML::Node field(const YAML::Node& map, const std::string& key) {
  if (!map.IsMap()) return YAML::Node();
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  return YAML::Node();
}

bool absent(const YAML::Node& n) { return !n.IsDefined() || n.IsNull(); }

// What the API server fills in and kubectl prints: no part of what a proxy reads.
void drop_server_fields(YAML::Node on) {
  YAML::Node meta = field(on, "metadata");
  if (meta.IsMap())
    for (const char* k : {"uid", "resourceVersion", "managedFields", "creationTimestamp", "generation", "selfLink",
                          "ownerReferences", "generateName", "finalizers"})
      meta.remove(k);
  // A Service's status means something only with load-balancer ingress IPs.
  YAML::Node status = field(on, "status");
  if (status.IsDefined() && absent(field(field(status, "loadBalancer"), "ingress"))) on.remove("status");
  else if (status.IsMap()) status.remove("conditions");
  // kubectl prints an unnamed port's name as "".
  YAML::Node ports = field(on, "ports");
  if (ports.IsSequence())
    for (auto p : ports)
      if (YAML::Node n = field(p, "name"); n.IsScalar() && n.Scalar().empty()) p.remove("name");
  YAML::Node endpoints = field(on, "endpoints");
  if (endpoints.IsSequence())
    for (auto ep : endpoints) {
      YAML::Node ref = field(ep, "targetRef");
      if (ref.IsMap()) {
        ref.remove("uid");
        ref.remove("resourceVersion");
      }
    }
}

// The Service an EndpointSlice names, as "ns/name"; "" when it names none
// (read_slice_object then says so).
std::string slice_service(const YAML::Node& on) {
  YAML::Node meta = field(on, "metadata");
  YAML::Node label = field(field(meta, "labels"), "kubernetes.io/service-name");
  YAML::Node ns = field(meta, "namespace");
  if (!label.IsScalar()) return "";
  return (ns.IsScalar() ? ns.Scalar() : "default") + "/" + label.Scalar();
}

// Where each document starts: a line "---" (alone or followed by a space) at
// column 0, which YAML forbids inside any scalar. Offsets and 0-based lines.
std::vector<std::pair<size_t, int>> document_starts(std::string_view text) {
  std::vector<std::pair<size_t, int>> starts{{0, 0}};
  int line = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    if (pos > 0 && l.starts_with("---") && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r'))
      starts.emplace_back(pos, line);
    pos = end + 1;
    ++line;
  }
  return starts;
}

// The next address of `range` no one has claimed (skipping the network and
// first address, a gateway's by habit); nullopt when the range is full.
std::optional<Ip> free_address(const Cidr& range, const AddressBook& book) {
  if (!range.ip().is_v4()) return std::nullopt;
  uint32_t base = range.network().ip().v4_host_order();
  uint64_t size = uint64_t{1} << (32 - range.prefix_len());
  for (uint64_t i = 2; i + 1 < size; ++i)
    if (Ip ip = Ip::v4(static_cast<uint32_t>(base + i)); !book.owner(ip)) return ip;
  return std::nullopt;
}

std::vector<ListenPort> container_ports(const Reader& r, const YAML::Node& containers) {
  std::vector<ListenPort> out;
  std::set<std::pair<Protocol, uint16_t>> seen;
  for (const auto& cn : list(r, containers, "'containers'")) {
    YAML::Node ports = field(cn, "ports");
    if (absent(ports)) continue;
    for (const auto& pn : list(r, ports, "container 'ports'")) {
      if (!pn.IsMap()) r.fail(pn, "a container port must be a map, got " + describe(pn));
      ListenPort lp;
      lp.port = port(r, field(pn, "containerPort"), "'containerPort'");
      if (YAML::Node p = field(pn, "protocol"); !absent(p)) lp.protocol = protocol(r, p, "'protocol'");
      if (YAML::Node n = field(pn, "name"); !absent(n)) lp.name = name(r, n, "container port 'name'");
      if (seen.insert({lp.protocol, lp.port}).second) out.push_back(lp);
    }
  }
  return out;
}

// The labels every pod of the Deployment carries; the selector must pick them,
// as the API server requires.
std::map<std::string, std::string> template_labels(const Reader& r, const YAML::Node& spec, const YAML::Node& at) {
  YAML::Node tmeta = field(field(spec, "template"), "metadata");
  auto labels = string_map(r, field(tmeta, "labels"), "template 'labels'");
  YAML::Node selector = field(spec, "selector");
  if (!absent(field(selector, "matchExpressions")))
    r.fail(field(selector, "matchExpressions"), "selector 'matchExpressions' is not supported: use matchLabels");
  auto match = string_map(r, field(selector, "matchLabels"), "selector 'matchLabels'");
  if (match.empty()) r.fail(absent(selector) ? at : selector, "a Deployment needs spec.selector.matchLabels");
  for (const auto& [k, v] : match)
    if (auto it = labels.find(k); it == labels.end() || it->second != v)
      r.fail(selector, "selector matchLabels " + k + "=" + v +
                           " does not match the template's labels (the API "
                           "server refuses such a Deployment)");
  return labels;
}

// The Deployment's pods, placed round-robin on the case's nodes in order, named
// <deployment>-<i>, each with the next free address of its node's podCIDR (or
// the cluster's).
void read_deployment(const Reader& r, const YAML::Node& on, Cluster& c, AddressBook& book) {
  MapReader m(r, on, "Deployment", {"apiVersion", "kind", "metadata", "spec", "status"});
  MapReader meta(r, m.need("metadata"), "Deployment metadata", {"name", "namespace", "labels", "annotations"});
  const std::string dep = name(r, meta.need("name"), "metadata 'name'");
  YAML::Node spec = m.need("spec");
  if (!spec.IsMap()) r.fail(spec, "Deployment 'spec' must be a map, got " + describe(spec));
  long long replicas = 1;
  if (YAML::Node n = field(spec, "replicas"); !absent(n))
    replicas = integer(r, n, "'replicas'", 0, kMaxDeploymentReplicas);
  auto labels = template_labels(r, spec, m.need("spec"));
  YAML::Node pod_spec = field(field(spec, "template"), "spec");
  auto listen = container_ports(r, field(pod_spec, "containers"));
  for (long long i = 0; i < replicas; ++i) {
    Pod p;
    p.name = dep + "-" + std::to_string(i);
    if (p.name.size() > kMaxNameLength)
      r.fail(meta.need("name"), "Deployment '" + dep + "' names its pods " + p.name + ", longer than " +
                                    std::to_string(kMaxNameLength) + " characters: shorten the name");
    if (c.pod(p.name) || c.node(p.name) || c.external(p.name))
      r.fail(meta.need("name"), "Deployment '" + dep + "' pod '" + p.name + "' takes a name the case already uses");
    const Node& node = c.nodes[static_cast<size_t>(i) % c.nodes.size()];
    auto ip = free_address(node.pod_cidr.value_or(c.pod_cidr), book);
    if (!ip)
      r.fail(meta.need("name"), "no free pod address left for Deployment '" + dep + "' on node '" + node.name + "'");
    book.claim(r, meta.need("name"), *ip, "pod '" + p.name + "'");
    p.node = node.name;
    p.ips = {*ip};
    p.labels = labels;
    p.listen = listen;
    p.where = r.where(on);
    c.pods.push_back(std::move(p));
  }
}

}  // namespace

ManifestFiles::ManifestFiles(const Reader& case_reader, const YAML::Node& list_node, Cluster& c, AddressBook& book) {
  if (absent(list_node)) return;
  auto entries = list(case_reader, list_node, "'objectsFrom'");
  if (entries.empty())
    case_reader.fail(list_node, "'objectsFrom' is empty: name a manifest file, or leave the key out");
  if (entries.size() > static_cast<size_t>(kMaxManifestFiles))
    case_reader.fail(list_node, "'objectsFrom' names more than " + std::to_string(kMaxManifestFiles) + " files");
  for (const auto& e : entries) read_file(case_reader, e, c, book);
}

void ManifestFiles::read_file(const Reader& case_reader, const YAML::Node& entry, Cluster& c, AddressBook& book) {
  std::string written = text(case_reader, entry, "'objectsFrom' entry");
  fs::path path(written);
  if (path.is_relative()) path = fs::path(case_reader.file()).parent_path() / path;
  std::string content;
  try {
    content = kpath::read_regular_file(path.string(), kMaxManifestBytes, "manifest file");
  } catch (const kpath::Error& e) {
    case_reader.fail(entry, std::string("'objectsFrom': ") + e.what() +
                                (fs::path(written).is_relative() ? " (relative to the case file's folder)" : ""));
  }
  check_encoding(Reader(path.string()), content);
  auto starts = document_starts(content);
  for (size_t i = 0; i < starts.size(); ++i) {
    size_t end = i + 1 < starts.size() ? starts[i + 1].first : content.size();
    read_document(path.string(), std::string_view(content).substr(starts[i].first, end - starts[i].first),
                  starts[i].second, c, book);
  }
}

void ManifestFiles::read_document(const std::string& file, std::string_view text, int first_line, Cluster& c,
                                  AddressBook& book) {
  const Reader& r = readers_.emplace_back(file, first_line);
  std::string doc_text(text);
  YAML::Node doc;
  try {
    check_shape(r, doc_text, kMaxManifestDocumentNodes);
    doc = YAML::Load(doc_text);
  } catch (const YAML::Exception& e) {
    r.fail(e.mark, "YAML syntax error: " + e.msg);
  }
  if (absent(doc)) return;  // an empty document: a leading or trailing ---
  read_object(r, doc, c, book, /*in_list=*/false);
}

void ManifestFiles::read_object(const Reader& r, const YAML::Node& on, Cluster& c, AddressBook& book, bool in_list) {
  if (!on.IsMap()) r.fail(on, "a Kubernetes object must be a map, got " + describe(on));
  YAML::Node kind_node = field(on, "kind"), api_node = field(on, "apiVersion");
  if (absent(kind_node) || absent(api_node)) r.fail(on, "a Kubernetes object needs 'apiVersion' and 'kind'");
  std::string kind = text(r, kind_node, "'kind'"), api = text(r, api_node, "'apiVersion'");
  drop_server_fields(on);
  if (kind == "List" && api == "v1" && !in_list) {
    MapReader m(r, on, "List", {"apiVersion", "kind", "metadata", "items"});
    for (const auto& item : list(r, m.need("items"), "'items'")) read_object(r, item, c, book, /*in_list=*/true);
  } else if (kind == "Service" && api == "v1") {
    read_service_object(r, on, c, book);
  } else if (kind == "EndpointSlice" && api == "discovery.k8s.io/v1") {
    if (c.service_named(slice_service(on))) read_slice_object(r, on, c, book);
    else pending_.emplace_back(&r, on);
  } else if (kind == "Deployment" && api == "apps/v1") {
    read_deployment(r, on, c, book);
  } else {
    r.fail(on, "unsupported object " + api + " " + kind +
                   " (expected v1 Service, discovery.k8s.io/v1 EndpointSlice, "
                   "apps/v1 Deployment" +
                   (in_list ? "" : ", or a v1 List of them") + ")");
  }
}

void ManifestFiles::read_pending(Cluster& c, const AddressBook& book) {
  for (const auto& [r, on] : pending_) read_slice_object(*r, on, c, book);
  pending_.clear();
}

std::vector<Warning> ManifestFiles::take_warnings() {
  std::vector<Warning> out;
  for (auto& r : readers_)
    for (auto& w : r.take_warnings()) out.push_back(std::move(w));
  return out;
}

}  // namespace harness::cases
