// kube-proxy's naming and number formats, reimplemented: SHA-256 (OpenSSL's
// libcrypto), RFC 4648 base32, the iptables chain names (KUBE-SVC-/SVL-/EXT-/FW-/SEP- + 16 chars),
// the nftables chain-name bases ("HASH8-ns/name/proto/port[__ip/port]") and the
// 1/n probabilities of the iptables statistic match.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace harness::kube {

// SHA-256 of `data` (FIPS 180-4), by libcrypto; throws kpath::Error if that fails.
std::array<uint8_t, 32> sha256(std::string_view data);
// Standard base32 (RFC 4648, upper case, '=' padding).
std::string base32(const uint8_t* data, size_t size);

// base32(sha256(servicePortName + protocol))[:16]; protocol lower case ("tcp").
std::string port_proto_hash(const std::string& service_port_name, const std::string& protocol);

// iptables chain names. service_port_name is "ns/name:port" (port may be empty).
std::string svc_chain(const std::string& service_port_name, const std::string& protocol);  // KUBE-SVC-
std::string svl_chain(const std::string& service_port_name, const std::string& protocol);  // KUBE-SVL-
std::string ext_chain(const std::string& service_port_name, const std::string& protocol);  // KUBE-EXT-
std::string fw_chain(const std::string& service_port_name, const std::string& protocol);   // KUBE-FW-
// KUBE-SEP- + base32(sha256(servicePortName + protocol + endpoint))[:16];
// endpoint is "IP:port" ("[v6]:port" for IPv6).
std::string sep_chain(const std::string& service_port_name, const std::string& protocol, const std::string& endpoint);

// nftables: base32(sha256(name))[:8] + "-" + name, truncated to 240 characters
// ("..." at the end) as kube-proxy does.
std::string nft_hash_and_truncate(const std::string& name);
// "HASH-ns/name/proto/port", e.g. "ULMVA6XW-ns1/svc1/tcp/p80".
std::string nft_service_base(const std::string& ns, const std::string& name, const std::string& protocol,
                             const std::string& port_name);
// "HASH-ns/name/proto/port__IP/port"; colons of an IPv6 address become dots.
std::string nft_endpoint_base(const std::string& ns, const std::string& name, const std::string& protocol,
                              const std::string& port_name, const std::string& endpoint_ip, uint16_t endpoint_port);

// The statistic probability for a rule that picks 1 of the n remaining
// endpoints: 1/n printed "%0.10f" (n=2 -> "0.5000000000").
std::string probability(int n);

}  // namespace harness::kube
