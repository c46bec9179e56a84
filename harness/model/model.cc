#include "harness/model/model.h"

#include <algorithm>
#include <cctype>

namespace harness {

std::string to_string(Protocol p) {
  switch (p) {
    case Protocol::TCP: return "TCP";
    case Protocol::UDP: return "UDP";
    case Protocol::SCTP: return "SCTP";
  }
  return "?";
}

std::string lower(Protocol p) {
  std::string s = to_string(p);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<Protocol> parse_protocol(const std::string& s) {
  std::string u = s;
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
  if (u == "TCP") return Protocol::TCP;
  if (u == "UDP") return Protocol::UDP;
  if (u == "SCTP") return Protocol::SCTP;
  return std::nullopt;
}

template <typename T>
static const T* find_named(const std::vector<T>& v, const std::string& name) {
  auto it = std::find_if(v.begin(), v.end(), [&](const T& x) { return x.name == name; });
  return it == v.end() ? nullptr : &*it;
}

const Node* Cluster::node(const std::string& name) const { return find_named(nodes, name); }
const Pod* Cluster::pod(const std::string& name) const { return find_named(pods, name); }
const External* Cluster::external(const std::string& name) const { return find_named(externals, name); }

const Service* Cluster::service(const std::string& ns, const std::string& name) const {
  for (const auto& s : services)
    if (s.ns == ns && s.name == name) return &s;
  return nullptr;
}

std::vector<const EndpointSlice*> Cluster::slices_for(const Service& s) const {
  std::vector<const EndpointSlice*> out;
  for (const auto& sl : slices)
    if (sl.ns == s.ns && sl.service == s.name) out.push_back(&sl);
  return out;
}

}  // namespace harness
