// The kernel features rules can need, as `kpath doctor` names and tries them
// and as a skipped run reports them.
#pragma once

namespace harness::feature {

inline constexpr const char* kNat = "nf_nat";
inline constexpr const char* kStatistic = "xt_statistic";
inline constexpr const char* kRecent = "xt_recent";
inline constexpr const char* kAddrtype = "addrtype";
inline constexpr const char* kComment = "xt_comment";
inline constexpr const char* kMasquerade = "MASQUERADE";
inline constexpr const char* kReject = "REJECT";
inline constexpr const char* kConntrack = "conntrack_netlink";
inline constexpr const char* kNfacct = "nfacct";
inline constexpr const char* kNumgen = "nf_tables_numgen";
inline constexpr const char* kNftMasqueradeFullyRandom = "nft_masquerade_fully_random";
inline constexpr const char* kIpvs = "ipvs";
inline constexpr const char* kBrNetfilter = "br_netfilter";
// IPv6 in a new network namespace (/proc/sys/net/ipv6; absent with ipv6.disable=1).
inline constexpr const char* kIpv6 = "ipv6";
// SCTP sockets (the sctp module): the echo servers and probes of an SCTP Service port.
inline constexpr const char* kSctp = "sctp";

}  // namespace harness::feature
