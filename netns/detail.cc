#include "netns/detail.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

namespace netns::detail {

std::string label(const Namespace& ns) { return "namespace net:[" + std::to_string(ns.id()) + "]"; }

namespace {

int store_attr(const nlattr* attr, void* data) {
  auto* tb = static_cast<std::span<const nlattr*>*>(data);
  // Unknown (newer) attribute types are skipped, not an error.
  if (mnl_attr_type_valid(attr, static_cast<uint16_t>(tb->size() - 1)) > 0) (*tb)[mnl_attr_get_type(attr)] = attr;
  return MNL_CB_OK;
}

}  // namespace

void parse_attrs(const nlmsghdr* nlh, size_t offset, std::span<const nlattr*> tb) {
  std::fill(tb.begin(), tb.end(), nullptr);
  mnl_attr_parse(nlh, static_cast<unsigned>(offset), store_attr, &tb);
}

bool parse_nested(const nlattr* nest, std::span<const nlattr*> tb) {
  std::fill(tb.begin(), tb.end(), nullptr);
  if (!nest || mnl_attr_validate(nest, MNL_TYPE_NESTED) < 0) return false;
  mnl_attr_parse_nested(nest, store_attr, &tb);
  return true;
}

std::optional<uint8_t> read_u8(const nlattr* attr) {
  if (!attr || mnl_attr_validate(attr, MNL_TYPE_U8) < 0) return std::nullopt;
  return mnl_attr_get_u8(attr);
}

std::optional<uint32_t> read_u32(const nlattr* attr) {
  if (!attr || mnl_attr_validate(attr, MNL_TYPE_U32) < 0) return std::nullopt;
  return mnl_attr_get_u32(attr);
}

std::optional<uint16_t> read_be16(const nlattr* attr) {
  if (!attr || mnl_attr_validate(attr, MNL_TYPE_U16) < 0) return std::nullopt;
  return ntohs(mnl_attr_get_u16(attr));
}

std::optional<std::string> read_str(const nlattr* attr) {
  // NUL_STRING checks the terminator, which mnl_attr_get_str relies on.
  if (!attr || mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0) return std::nullopt;
  return std::string(mnl_attr_get_str(attr));
}

std::optional<kpath::Ip> read_ip(const nlattr* attr, int family) {
  const size_t size = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
  if (!attr || size == 0 || mnl_attr_validate2(attr, MNL_TYPE_BINARY, size) < 0) return std::nullopt;
  return kpath::Ip::from_bytes(family, {static_cast<const uint8_t*>(mnl_attr_get_payload(attr)), size});
}

}  // namespace netns::detail
