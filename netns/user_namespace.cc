#include "netns/user_namespace.h"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/errno.h"
#include "base/error.h"
#include "base/file.h"
#include "base/strings.h"

namespace netns {

namespace {

namespace fs = std::filesystem;

// The first line of a small /proc or /sys file, or "" when it is absent.
std::string first_line(const std::string& path) {
  std::string text = kpath::read_file_if_present(path).value_or("");
  return text.substr(0, text.find('\n'));
}

// /proc/self/setgroups, uid_map, gid_map: each written once, in one write.
void write_proc(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  if (!out) throw kpath::Error("rootless: cannot write " + path + " ('" + text + "')");
}

int threads_of_this_process() {
  for (const auto& line : kpath::split_lines(kpath::read_file_if_present("/proc/self/status").value_or("")))
    if (line.starts_with("Threads:")) return std::stoi(line.substr(8));
  return 0;
}

// A module is there when loaded (/sys/module/NAME) or built in.
bool module_present(const std::string& name, const std::string& builtin_list) {
  if (fs::exists("/sys/module/" + name)) return true;
  return builtin_list.find("/" + name + ".ko") != std::string::npos;
}

}  // namespace

std::vector<std::string> user_namespace_blockers() {
  std::vector<std::string> out;
  if (first_line("/proc/sys/kernel/unprivileged_userns_clone") == "0")
    out.push_back(
        "kernel.unprivileged_userns_clone is 0: unprivileged user namespaces are disabled; an "
        "administrator enables them with `sysctl -w kernel.unprivileged_userns_clone=1`");
  if (first_line("/proc/sys/user/max_user_namespaces") == "0")
    out.push_back(
        "user.max_user_namespaces is 0: no user namespace may be created; an administrator sets it "
        "above 0 (`sysctl -w user.max_user_namespaces=15000`)");
  if (first_line("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1")
    out.push_back(
        "kernel.apparmor_restrict_unprivileged_userns is 1 (Ubuntu): AppArmor confines unprivileged "
        "user namespaces; an administrator gives kpath an AppArmor profile that allows `userns,` or "
        "sets the sysctl to 0");
  return out;
}

std::string enter_user_namespace() {
  // unshare(CLONE_NEWUSER) fails with EINVAL in a threaded process; say why.
  if (int threads = threads_of_this_process(); threads > 1)
    throw kpath::Error("rootless: kpath has " + std::to_string(threads) +
                       " threads and a user namespace needs one (an internal ordering error)");
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER) != 0) {
    int e = errno;
    std::string why = "rootless: the kernel refused a new user namespace: " + kpath::error_text(e);
    for (const auto& b : user_namespace_blockers()) why += "\n  " + b;
    if (user_namespace_blockers().empty())
      why += "\n  (no known sysctl blocks it; a seccomp profile may, e.g. a container's)";
    throw kpath::Error(why + "\n  or run kpath as root (sudo kpath run ...)");
  }
  // Without setgroups denied, an unprivileged process may not write gid_map.
  write_proc("/proc/self/setgroups", "deny");
  write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
  write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
  return "uid " + std::to_string(uid) + " -> 0, gid " + std::to_string(gid) + " -> 0";
}

bool in_user_namespace() {
  std::string map = first_line("/proc/self/uid_map");
  std::istringstream in(map);
  uint64_t inside = 1, outside = 1, count = 0;
  in >> inside >> outside >> count;
  return !(inside == 0 && outside == 0 && count == 4294967295u);
}

const std::vector<std::string>& modules_used() {
  static const std::vector<std::string> modules = {"veth",
                                                   "nf_tables",
                                                   "nft_chain_nat",
                                                   "nft_nat",
                                                   "nft_masq",
                                                   "nft_ct",
                                                   "nft_numgen",
                                                   "nft_fib_inet",
                                                   "nft_reject_inet",
                                                   "nft_compat",
                                                   "nf_nat",
                                                   "nf_conntrack",
                                                   "nf_conntrack_netlink",
                                                   "nfnetlink_acct",
                                                   "xt_statistic",
                                                   "xt_comment",
                                                   "xt_mark",
                                                   "xt_addrtype",
                                                   "xt_conntrack",
                                                   "xt_recent",
                                                   "xt_nfacct",
                                                   "xt_MASQUERADE",
                                                   "xt_nat",
                                                   "xt_multiport",
                                                   "xt_tcpudp",
                                                   "ipt_REJECT"};
  return modules;
}

std::vector<std::string> missing_modules() {
  // A kernel without loadable modules has everything it will ever have built
  // in: there is nothing to load, and the feature probe says what is absent.
  if (!fs::exists("/proc/modules")) return {};
  utsname u{};
  ::uname(&u);
  const std::string dir = std::string("/lib/modules/") + u.release;
  const std::string builtin = kpath::read_file_if_present(dir + "/modules.builtin").value_or("");
  const std::string available = kpath::read_file_if_present(dir + "/modules.dep").value_or("");
  std::vector<std::string> out;
  for (const auto& m : modules_used()) {
    if (module_present(m, builtin)) continue;
    // Only what modprobe could load; a module this kernel lacks entirely is
    // a missing feature, reported by the feature probe.
    if (available.find("/" + m + ".ko") == std::string::npos) continue;
    out.push_back(m);
  }
  return out;
}

}  // namespace netns
