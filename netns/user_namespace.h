// Rootless mode: kpath moves itself into a new user namespace in which the
// caller is root, and builds every network namespace, installs every rule and
// starts every program from there. The host is out of reach by construction:
// namespaces created inside belong to the new user namespace, and nothing in
// it has any capability over the host's.
#pragma once

#include <string>
#include <vector>

namespace netns {

// What stands in the way of an unprivileged user namespace on this machine,
// each with the sysctl that says so and what an administrator does about it;
// empty when nothing does (the unshare itself may still fail: see below).
std::vector<std::string> user_namespace_blockers();

// The caller's uid and gid become 0 inside (one mapping of one id each: the
// programs kpath starts run as root inside and need no other id). Must run
// while the process has one thread (unshare(CLONE_NEWUSER) refuses otherwise).
// Returns a one-line description ("uid 1000 -> 0, gid 1000 -> 0"). Throws
// kpath::Error naming the blocking sysctl when the kernel refuses.
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
