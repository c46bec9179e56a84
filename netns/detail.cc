#include "netns/detail.h"

#include <arpa/inet.h>

#include <algorithm>
#include <system_error>

#include "base/error.h"

namespace netns::detail {

std::string error_text(int err) { return std::generic_category().message(err); }

void throw_errno(const std::string& what, int err) {
  throw kpath::Error(what + ": " + error_text(err));
}

std::string label(const Namespace& ns) {
  return "namespace net:[" + std::to_string(ns.id()) + "]";
}

kpath::Ip ip_from_bytes(int family, const void* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(family, bytes, text, sizeof text)) throw_errno("format IP address");
  return kpath::Ip::from(text);
}

namespace {

int store_attr(const nlattr* attr, void* data) {
  auto* tb = static_cast<std::span<const nlattr*>*>(data);
  // Unknown (newer) attribute types are skipped, not an error.
  if (mnl_attr_type_valid(attr, static_cast<uint16_t>(tb->size() - 1)) > 0)
    (*tb)[mnl_attr_get_type(attr)] = attr;
  return MNL_CB_OK;
}

}  // namespace

void parse_attrs(const nlmsghdr* nlh, size_t offset, std::span<const nlattr*> tb) {
  std::fill(tb.begin(), tb.end(), nullptr);
  mnl_attr_parse(nlh, static_cast<unsigned>(offset), store_attr, &tb);
}

void parse_nested(const nlattr* nest, std::span<const nlattr*> tb) {
  std::fill(tb.begin(), tb.end(), nullptr);
  mnl_attr_parse_nested(nest, store_attr, &tb);
}

}  // namespace netns::detail
