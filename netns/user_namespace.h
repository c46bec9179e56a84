// Rootless mode: kpath moves itself into a new user namespace in which the
// caller is root, and builds every network namespace, installs every rule and
// starts every program from there. The host is out of reach by construction:
// namespaces created inside belong to the new user namespace, and nothing in
// it has any capability over the host's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netns {

// What stands in the way of an unprivileged user namespace on this machine,
// each with the sysctl that says so and what an administrator does about it;
// empty when nothing does (the unshare itself may still fail: see below).
std::vector<std::string> user_namespace_blockers();

// A subordinate id range, a line "NAME_OR_ID:START:COUNT" of /etc/subuid or
// /etc/subgid (both are keyed by the user's login name or uid).
struct SubordinateRange {
  uint64_t start = 0;
  uint64_t count = 0;
  bool operator==(const SubordinateRange&) const = default;
};

// The first range of the user `name` (or numeric `id`) in such a file's
// text; lines that do not parse, or with a count of 0, are skipped.
std::optional<SubordinateRange> subordinate_range(const std::string& text, const std::string& name, uint64_t id);

// How the caller's ids map into the user namespace: 0 -> the caller, and
// with ranges also 1..COUNT -> the subordinate range (written from outside by
// the setuid newuidmap/newgidmap, since an unprivileged process may map only
// itself); otherwise the single mapping.
struct IdMapPlan {
  uint64_t uid = 0;
  uint64_t gid = 0;
  std::optional<SubordinateRange> subuid, subgid;  // both set, or neither
  std::string newuidmap, newgidmap;                // the tools' paths, with ranges
  std::string why_single;                          // without ranges: the reason

  bool ranges() const { return subuid.has_value(); }
  // newuidmap's / newgidmap's arguments after the pid: "0 UID 1 1 START COUNT".
  std::vector<std::string> uid_args() const;
  std::vector<std::string> gid_args() const;
  // "uid 1000 -> 0, gid 1000 -> 0", with ranges "uid 1000 -> 0 and 100000-165535 -> 1-65536, gid ...".
  std::string describe() const;
};

// Pure: ranges when the caller has a subordinate uid and gid range and both
// tools were found ("" = absent); else the single mapping and why.
IdMapPlan plan_id_maps(uint64_t uid, uint64_t gid, const std::optional<SubordinateRange>& subuid,
                       const std::optional<SubordinateRange>& subgid, const std::string& newuidmap,
                       const std::string& newgidmap);

// plan_id_maps for this process: its euid and egid, its login name, /etc/subuid,
// /etc/subgid, and newuidmap/newgidmap on PATH (or /usr/bin).
IdMapPlan caller_id_map_plan();

// Moves this process into a new user namespace in which the caller is root,
// mapped as caller_id_map_plan() says (falling back to the single mapping
// when newuidmap/newgidmap fail, and saying so). Must run while the process
// has one thread (unshare(CLONE_NEWUSER) refuses otherwise). Returns a
// one-line description ("uid 1000 -> 0, gid 1000 -> 0"). Throws kpath::Error
// naming the blocking sysctl when the kernel refuses.
std::string enter_user_namespace();

// True when this process runs in a user namespace other than the initial
// one (its uid_map is not the identity over the whole range).
bool in_user_namespace();

// The kernel modules kpath's cases use that are neither loaded nor built in.
// A user namespace cannot load modules (the kernel refuses autoload there),
// so in rootless mode an administrator loads these once.
std::vector<std::string> missing_modules();

// The modules kpath's cases use (nf_tables and its expressions, the xtables
// matches iptables-nft needs, NAT, conntrack, nfacct, veth).
const std::vector<std::string>& modules_used();

}  // namespace netns
