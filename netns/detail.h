// Internal helpers shared by netns/*.cc (not part of the API): namespace labels
// for messages, and libmnl attribute tables and validated attribute reads.
#pragma once

#include <libmnl/libmnl.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/ip.h"
#include "netns/namespace.h"

namespace netns::detail {

// "namespace net:[4026532001]", for messages that name where things happen.
std::string label(const Namespace& ns);

// The fixed header (ifinfomsg, nfgenmsg, ...) at the start of a message's
// payload, or null when the message is too short to hold one.
template <typename Header>
const Header* header_of(const nlmsghdr* nlh) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(Header)) return nullptr;
  return static_cast<const Header*>(mnl_nlmsg_get_payload(nlh));
}

// libmnl attribute tables: tb[type] points at the attribute of that type, or is
// null. Types beyond the table are ignored (newer kernels add attributes).
// Nothing is validated yet: read an entry with the read_* functions below.
void parse_attrs(const nlmsghdr* nlh, size_t offset, std::span<const nlattr*> tb);
// The same for the attributes nested in nest; false (and tb all null) when nest
// is null or not a valid nest.
bool parse_nested(const nlattr* nest, std::span<const nlattr*> tb);

// Validated reads, libmnl's discipline (mnl_attr_validate before
// mnl_attr_get_*, as in its nfct-dump.c): each gives nullopt when attr is null
// or its payload is not of the expected type and length.
std::optional<uint8_t> read_u8(const nlattr* attr);
// A 32-bit value in host order (FRA_PRIORITY, RTA_TABLE, ...).
std::optional<uint32_t> read_u32(const nlattr* attr);
// A big-endian 16-bit value (ports, conntrack zones), in host order.
std::optional<uint16_t> read_be16(const nlattr* attr);
// A NUL-terminated string (IFLA_IFNAME, NFACCT_NAME, ...).
std::optional<std::string> read_str(const nlattr* attr);
// A raw address of family's length: 4 bytes for AF_INET, 16 for AF_INET6.
std::optional<kpath::Ip> read_ip(const nlattr* attr, int family);

}  // namespace netns::detail
