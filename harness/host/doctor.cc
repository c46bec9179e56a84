#include "harness/host/doctor.h"

#include <fmt/format.h>
#include <linux/genetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <set>

#include "base/error.h"
#include "netns/netfilter.h"
#include "netns/netlink.h"
#include "netns/privileges.h"
#include "netns/user_namespace.h"
#include "netns/process.h"

namespace harness {

namespace {

using netns::Namespace;
using std::chrono::seconds;

// The first non-empty line of a tool's complaint: enough to say why.
std::string first_line(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) return line;
    start = end + 1;
  }
  return {};
}

// Runs a tool inside ns; nullopt when it succeeded, else why it did not.
std::optional<std::string> tool_fails(const Namespace& ns, const std::vector<std::string>& argv,
                                      const std::string& input) {
  netns::ProcessResult r = netns::run_process(ns, argv, input, seconds(10));
  if (r.exit_code == 0) return std::nullopt;
  if (r.timed_out) return argv[0] + " timed out";
  std::string why = first_line(r.err);
  if (why.empty()) why = first_line(r.out);
  return why.empty() ? fmt::format("{} exited with {}", argv[0], r.exit_code) : why;
}

std::string restore_tool(IptablesVariant v) {
  return v == IptablesVariant::Nft ? "iptables-nft-restore" : "iptables-legacy-restore";
}

// One rule appended to a built-in chain of table, restored on its own.
std::optional<std::string> iptables_rule_fails(const Namespace& ns, IptablesVariant v, const std::string& table,
                                               const std::string& chain, const std::string& rule) {
  std::string input = fmt::format("*{}\n:{} ACCEPT [0:0]\n-A {} {}\nCOMMIT\n", table, chain, chain, rule);
  return tool_fails(ns, {restore_tool(v)}, input);
}

std::optional<std::string> nft_script_fails(const Namespace& ns, const std::string& script) {
  return tool_fails(ns, {"nft", "-f", "-"}, script);
}

// Asks the generic netlink controller for a family by name; the IPVS family
// exists only while ip_vs is loaded.
std::optional<std::string> genl_family_missing(const Namespace& ns, const std::string& family) {
  netns::Netlink nl(ns, NETLINK_GENERIC);
  nlmsghdr* nlh = nl.begin(GENL_ID_CTRL, 0);
  auto* genl = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  genl->cmd = CTRL_CMD_GETFAMILY;
  genl->version = 1;
  mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, family.c_str());
  try {
    nl.query(
        nlh, [](const nlmsghdr*) {}, "generic netlink family " + family);
    return std::nullopt;
  } catch (const netns::NetlinkError& e) {
    if (e.code() == ENOENT) return fmt::format("generic netlink family {} not registered: module not loaded", family);
    return std::string(e.what());
  }
}

std::optional<std::string> ipvs_missing(const Namespace& ns) {
  try {
    return tool_fails(ns, {"ipvsadm", "-L", "-n"}, {});
  } catch (const kpath::Error&) {
    // no ipvsadm: ask the kernel directly
  }
  return genl_family_missing(ns, "IPVS");
}

std::optional<std::string> br_netfilter_missing(const Namespace& ns) {
  // /proc/sys/net follows the namespace of the opening thread, hence run().
  bool present = ns.run([] { return ::access("/proc/sys/net/bridge", F_OK) == 0; });
  if (present) return std::nullopt;
  return "no /proc/sys/net/bridge in a new namespace (br_netfilter not loaded)";
}

std::optional<std::string> ipv6_missing(const Namespace& ns) {
  bool present = ns.run([] { return ::access("/proc/sys/net/ipv6", F_OK) == 0; });
  if (present) return std::nullopt;
  return "no /proc/sys/net/ipv6 in a new namespace (IPv6 disabled in this kernel)";
}

std::optional<std::string> sctp_missing(const Namespace& ns) {
  int err = ns.run([] {
    int fd = ::socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    if (fd < 0) return errno;
    ::close(fd);
    return 0;
  });
  if (err == 0) return std::nullopt;
  return "no SCTP sockets in a new namespace (socket(IPPROTO_SCTP): " + std::string(std::strerror(err)) +
         "; the sctp module is not loaded or not built)";
}

struct Probe {
  const char* name;
  std::function<std::optional<std::string>(const Namespace&, IptablesVariant)> missing;
};

std::vector<Probe> probes() {
  auto rule = [](const char* table, const char* chain, const char* text) {
    return [=](const Namespace& ns, IptablesVariant v) { return iptables_rule_fails(ns, v, table, chain, text); };
  };
  auto nft = [](const char* script) {
    return [=](const Namespace& ns, IptablesVariant) { return nft_script_fails(ns, script); };
  };
  return {
      {feature::kNat,
       rule("nat", "PREROUTING", "-p tcp -d 192.0.2.1 --dport 80 -j DNAT --to-destination 192.0.2.2:80")},
      {feature::kStatistic, rule("filter", "INPUT", "-m statistic --mode random --probability 0.5 -j ACCEPT")},
      {feature::kRecent, rule("filter", "INPUT", "-m recent --name x --set -j ACCEPT")},
      {feature::kAddrtype, rule("filter", "INPUT", "-m addrtype --dst-type LOCAL -j ACCEPT")},
      {feature::kComment, rule("filter", "INPUT", "-m comment --comment \"kpath doctor\" -j ACCEPT")},
      {feature::kMasquerade, rule("nat", "POSTROUTING", "-j MASQUERADE")},
      {feature::kReject, rule("filter", "INPUT", "-p tcp --dport 9 -j REJECT")},
      {feature::kConntrack,
       [](const Namespace& ns, IptablesVariant) -> std::optional<std::string> {
         netns::conntrack_dump(ns);
         return std::nullopt;
       }},
      {feature::kNfacct,
       [](const Namespace& ns, IptablesVariant) -> std::optional<std::string> {
         netns::nfacct_add(ns, "kpath-doctor");
         return std::nullopt;
       }},
      {feature::kNumgen, nft("table ip kpath_doctor {\n  chain probe {\n"
                             "    numgen random mod 2 vmap { 0 : accept, 1 : accept }\n  }\n}\n")},
      {feature::kNftMasqueradeFullyRandom,
       nft("table ip kpath_doctor {\n  chain postrouting {\n"
           "    type nat hook postrouting priority srcnat; policy accept;\n    masquerade fully-random\n  }\n}\n")},
      {feature::kIpvs, [](const Namespace& ns, IptablesVariant) { return ipvs_missing(ns); }},
      {feature::kBrNetfilter, [](const Namespace& ns, IptablesVariant) { return br_netfilter_missing(ns); }},
      {feature::kIpv6, [](const Namespace& ns, IptablesVariant) { return ipv6_missing(ns); }},
      {feature::kSctp, [](const Namespace& ns, IptablesVariant) { return sctp_missing(ns); }},
  };
}

// Each probe gets a namespace of its own so no probe sees another's leftovers.
FeatureStatus run_probe(const Probe& p, IptablesVariant v) {
  FeatureStatus s{p.name, false, {}};
  try {
    Namespace scratch = Namespace::create();
    auto why = p.missing(scratch, v);
    s.ok = !why;
    if (why) s.reason = *why;
  } catch (const std::exception& e) {
    s.reason = first_line(e.what());
  }
  return s;
}

// `tool --version`, read in the root namespace (reading changes nothing).
std::string tool_version(const std::string& tool) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen((tool + " --version 2>/dev/null").c_str(), "r"), pclose);
  if (!p) return "cannot run " + tool;
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
  std::string line = first_line(out);
  return line.empty() ? "not installed" : line;
}

}  // namespace

const FeatureStatus* FeatureReport::find(const std::string& name) const {
  for (const auto& f : features)
    if (f.name == name) return &f;
  return nullptr;
}

bool FeatureReport::has(const std::string& name) const {
  const FeatureStatus* f = find(name);
  return !f || f->ok;
}

Fingerprint fingerprint() {
  Fingerprint fp;
  utsname u{};
  fp.kernel = uname(&u) == 0 ? u.release : "unknown";
  fp.iptables_nft = tool_version("iptables-nft");
  fp.iptables_legacy = tool_version("iptables-legacy");
  fp.nft = tool_version("nft");
  fp.net_admin = netns::has_net_admin();
  return fp;
}

FeatureReport probe_all_features(IptablesVariant iptables) {
  FeatureReport report;
  for (const auto& p : probes()) report.features.push_back(run_probe(p, iptables));
  return report;
}

const FeatureReport& FeatureProbe::report() {
  std::call_once(once_, [this] { report_ = probe_all_features(iptables_); });
  return report_;
}

FeatureReport probe_features() {
  // A function-local static rather than an object passed around, for callers
  // (tests, tools) that have no RunOptions: the answer is a fact about this
  // kernel for the life of the process, and call_once makes the first use safe
  // from any thread. kpath run itself owns a FeatureProbe and passes it down.
  static FeatureProbe probe;
  return probe.report();
}

std::string format_doctor(const Fingerprint& fp, const FeatureReport& report, const std::vector<std::string>& needed) {
  std::string out = "Environment:\n";
  out += fmt::format("  {:<28} {}\n", "kernel", fp.kernel);
  out += fmt::format("  {:<28} {}\n", "iptables-nft", fp.iptables_nft);
  out += fmt::format("  {:<28} {}\n", "iptables-legacy", fp.iptables_legacy);
  out += fmt::format("  {:<28} {}\n", "nft", fp.nft);
  out += fmt::format("  {:<28} {}\n", "CAP_NET_ADMIN", fp.net_admin ? "held" : "not held");
  out += "Kernel features (each tried in a scratch namespace):\n";
  for (const auto& f : report.features) {
    bool is_needed = std::find(needed.begin(), needed.end(), f.name) != needed.end();
    std::string state = f.ok ? "ok" : fmt::format("missing ({})", f.reason);
    out += fmt::format("  {:<28} {}{}\n", f.name, state, !f.ok && !is_needed ? "  [no bundled case needs it]" : "");
  }
  return out;
}

RootlessReadiness rootless_readiness() {
  RootlessReadiness r;
  r.blockers = netns::user_namespace_blockers();
  r.missing_modules = netns::missing_modules();
  r.in_user_namespace = netns::in_user_namespace();
  netns::IdMapPlan plan = netns::caller_id_map_plan();
  r.id_mapping = plan.ranges() ? "ranges via newuidmap/newgidmap: " + plan.describe()
                               : "single: " + plan.describe() + " (" + plan.why_single + ")";
  return r;
}

std::string format_rootless(const RootlessReadiness& r, bool as_root) {
  std::string out = "Rootless readiness (kpath run without root, inside a user namespace):\n";
  if (r.blockers.empty()) {
    out += fmt::format("  {:<28} {}\n", "user namespaces", "allowed");
  } else {
    for (const auto& b : r.blockers) out += fmt::format("  {:<28} blocked: {}\n", "user namespaces", b);
  }
  if (r.missing_modules.empty()) {
    out += fmt::format("  {:<28} {}\n", "kernel modules", "every module kpath uses is loaded or built in");
  } else {
    // A user namespace cannot load modules; root loads them once.
    std::string list;
    for (const auto& m : r.missing_modules) list += " " + m;
    out += fmt::format("  {:<28} not loaded:{}\n", "kernel modules", list);
    out += fmt::format("  {:<28} an administrator runs once: sudo modprobe -a{}\n", "", list);
  }
  out += fmt::format("  {:<28} {}\n", "id mapping", r.id_mapping);
  out += fmt::format("  {:<28} {}\n", "iptables-legacy", "works inside (its lock file is the sandbox's private /run)");
  out += fmt::format("  {:<28} {}\n", "mode",
                     as_root ? "root: kpath runs in the host's namespaces; --rootless chooses a user namespace"
                             : "not root: kpath run enters a user namespace by itself");
  out += fmt::format("  {:<28} {}\n", "verdict", r.ready() ? "ready" : "not ready: see above");
  return out;
}

}  // namespace harness
