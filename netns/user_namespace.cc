#include "netns/user_namespace.h"

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/errno.h"
#include "base/error.h"
#include "base/fd.h"
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

// An executable `name` on PATH, else in /usr/bin; "" when neither has it.
std::string find_tool(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(std::string(path ? path : "") + ":/usr/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Runs `tool PID ARGS...` and waits; true on exit status 0.
bool run_map_tool(const std::string& tool, pid_t target, const std::vector<std::string>& args) {
  std::vector<std::string> words = {tool, std::to_string(target)};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::execv(tool.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// newuidmap and newgidmap must write the maps from outside the new user
// namespace: a child forked before the unshare waits for the go, maps its
// parent, and reports '1' (mapped) or '0'. Destroyed without a go, it ends.
class MapHelper {
 public:
  explicit MapHelper(const IdMapPlan& plan) {
    int go[2], done[2];
    if (::pipe2(go, O_CLOEXEC) != 0) kpath::throw_errno("rootless: pipe");
    go_read_.reset(go[0]);
    go_.reset(go[1]);
    if (::pipe2(done, O_CLOEXEC) != 0) kpath::throw_errno("rootless: pipe");
    done_.reset(done[0]);
    kpath::Fd done_write(done[1]);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) kpath::throw_errno("rootless: fork the id-map helper");
    if (pid_ == 0) {
      go_.reset();
      char c = 0;
      if (::read(go_read_.get(), &c, 1) != 1) ::_exit(1);  // no unshare happened
      bool ok = run_map_tool(plan.newuidmap, parent, plan.uid_args()) &&
                run_map_tool(plan.newgidmap, parent, plan.gid_args());
      char result = ok ? '1' : '0';
      (void)!::write(done_write.get(), &result, 1);
      ::_exit(0);
    }
    go_read_.reset();
  }
  MapHelper(const MapHelper&) = delete;
  MapHelper& operator=(const MapHelper&) = delete;
  ~MapHelper() {
    go_.reset();
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }

  // After the unshare: true when both maps were written.
  bool map() {
    char c = 'x', result = '0';
    if (::write(go_.get(), &c, 1) != 1) return false;
    ssize_t n;
    do n = ::read(done_.get(), &result, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 && result == '1';
  }

 private:
  kpath::Fd go_read_, go_, done_;
  pid_t pid_ = -1;
};

std::string range_text(const SubordinateRange& r, uint64_t from) {
  return std::to_string(r.start) + "-" + std::to_string(r.start + r.count - 1) + " -> " + std::to_string(from) + "-" +
         std::to_string(from + r.count - 1);
}

}  // namespace

std::optional<SubordinateRange> subordinate_range(const std::string& text, const std::string& name, uint64_t id) {
  const std::string id_text = std::to_string(id);
  for (const auto& line : kpath::split_lines(text)) {
    std::istringstream in(line);
    std::string owner, start, count;
    if (!std::getline(in, owner, ':') || !std::getline(in, start, ':') || !std::getline(in, count)) continue;
    if (owner != id_text && (name.empty() || owner != name)) continue;
    if (start.empty() || count.empty() || start.find_first_not_of("0123456789") != std::string::npos ||
        count.find_first_not_of("0123456789") != std::string::npos || start.size() > 10 || count.size() > 10)
      continue;
    SubordinateRange r{std::stoull(start), std::stoull(count)};
    if (r.count == 0 || r.start + r.count > 4294967295ull) continue;
    return r;
  }
  return std::nullopt;
}

std::vector<std::string> IdMapPlan::uid_args() const {
  if (!subuid) return {"0", std::to_string(uid), "1"};
  return {"0", std::to_string(uid), "1", "1", std::to_string(subuid->start), std::to_string(subuid->count)};
}

std::vector<std::string> IdMapPlan::gid_args() const {
  if (!subgid) return {"0", std::to_string(gid), "1"};
  return {"0", std::to_string(gid), "1", "1", std::to_string(subgid->start), std::to_string(subgid->count)};
}

std::string IdMapPlan::describe() const {
  if (!ranges()) return "uid " + std::to_string(uid) + " -> 0, gid " + std::to_string(gid) + " -> 0";
  return "uid " + std::to_string(uid) + " -> 0 and " + range_text(*subuid, 1) + ", gid " + std::to_string(gid) +
         " -> 0 and " + range_text(*subgid, 1);
}

IdMapPlan plan_id_maps(uint64_t uid, uint64_t gid, const std::optional<SubordinateRange>& subuid,
                       const std::optional<SubordinateRange>& subgid, const std::string& newuidmap,
                       const std::string& newgidmap) {
  IdMapPlan plan;
  plan.uid = uid;
  plan.gid = gid;
  if (!subuid || !subgid)
    plan.why_single = std::string("no subordinate ") +
                      (!subuid ? "uid range in /etc/subuid" : "gid range in /etc/subgid");
  else if (newuidmap.empty() || newgidmap.empty())
    plan.why_single = "newuidmap/newgidmap not found (Debian package uidmap)";
  if (!plan.why_single.empty()) return plan;
  plan.subuid = subuid;
  plan.subgid = subgid;
  plan.newuidmap = newuidmap;
  plan.newgidmap = newgidmap;
  return plan;
}

IdMapPlan caller_id_map_plan() {
  const uid_t uid = ::geteuid();
  std::string name;
  if (const passwd* pw = ::getpwuid(uid)) name = pw->pw_name;
  const std::string subuid = kpath::read_file_if_present("/etc/subuid").value_or("");
  const std::string subgid = kpath::read_file_if_present("/etc/subgid").value_or("");
  return plan_id_maps(uid, ::getegid(), subordinate_range(subuid, name, uid), subordinate_range(subgid, name, uid),
                      find_tool("newuidmap"), find_tool("newgidmap"));
}

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
  const IdMapPlan plan = caller_id_map_plan();
  std::optional<MapHelper> helper;
  if (plan.ranges()) helper.emplace(plan);  // forked now: it must stay outside
  if (::unshare(CLONE_NEWUSER) != 0) {
    int e = errno;
    std::string why = "rootless: the kernel refused a new user namespace: " + kpath::error_text(e);
    for (const auto& b : user_namespace_blockers()) why += "\n  " + b;
    if (user_namespace_blockers().empty())
      why += "\n  (no known sysctl blocks it; a seccomp profile may, e.g. a container's)";
    throw kpath::Error(why + "\n  or run kpath as root (sudo kpath run ...)");
  }
  if (helper && helper->map()) return plan.describe() + " (newuidmap/newgidmap)";
  // The single mapping. Without setgroups denied, an unprivileged process may
  // not write gid_map. (A failed newuidmap wrote nothing: the maps are whole or absent.)
  if (helper && !first_line("/proc/self/uid_map").empty())
    throw kpath::Error("rootless: newuidmap mapped the uids but newgidmap failed (see its message above)");
  IdMapPlan single = plan_id_maps(plan.uid, plan.gid, std::nullopt, std::nullopt, "", "");
  write_proc("/proc/self/setgroups", "deny");
  write_proc("/proc/self/uid_map", "0 " + std::to_string(plan.uid) + " 1");
  write_proc("/proc/self/gid_map", "0 " + std::to_string(plan.gid) + " 1");
  return single.describe() + (helper ? " (newuidmap/newgidmap failed: the single mapping instead)" : "");
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
