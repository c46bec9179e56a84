#include "netns/keeper.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/errno.h"
#include "base/error.h"
#include "base/file.h"
#include "base/strings.h"
#include "netns/namespace.h"

namespace netns {

namespace {

namespace fs = std::filesystem;

constexpr const char* kKeeperHeader = "kpath-keeper v1";
constexpr size_t kMessageMax = 4096;

// One datagram (SOCK_SEQPACKET keeps message boundaries), with fd attached when >= 0.
bool send_message(int sock, const std::string& text, int fd) {
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(text.size());
}

// The next datagram and the fd it carried (-1 if none); nullopt at end of stream or on error.
std::optional<std::pair<std::string, kpath::Fd>> receive_message(int sock) {
  char buf[kMessageMax];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  kpath::Fd fd;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int got = -1;
    std::memcpy(&got, CMSG_DATA(c), sizeof(int));
    fd.reset(got);
  }
  return std::make_pair(std::string(buf, static_cast<size_t>(n)), std::move(fd));
}

std::vector<std::string> tab_fields(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string f; std::getline(in, f, '\t');) out.push_back(f);
  return out;
}

// /proc/PID/stat's state letter (after the command's closing ')'), or 0.
char state_of(int pid) {
  std::string stat = kpath::read_file_if_present("/proc/" + std::to_string(pid) + "/stat").value_or("");
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? 0 : stat[close + 2];
}

// The real uid of pid as this process's user namespace sees it.
std::optional<uid_t> uid_of(int pid) {
  for (const auto& line :
       kpath::split_lines(kpath::read_file_if_present("/proc/" + std::to_string(pid) + "/status").value_or("")))
    if (line.starts_with("Uid:")) return static_cast<uid_t>(std::stoul(line.substr(4)));
  return std::nullopt;
}

void write_marker_file(const KeeperMarker& marker) {
  const std::string tmp = marker.file + ".tmp";
  {
    kpath::Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) kpath::throw_errno("write keeper marker " + tmp);
    const std::string text = marker.text();
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      kpath::throw_errno("write keeper marker " + tmp);
  }
  // Whole or absent: cleanup never reads half a marker.
  if (::rename(tmp.c_str(), marker.file.c_str()) != 0) kpath::throw_errno("rename keeper marker " + tmp);
}

// The keeper's own setup: its name, its own session (a terminal's Ctrl-C is
// for kpath), default signals (kpath's handlers only set a flag), nothing of
// kpath's open but the socket (a pipe reading kpath's output must see EOF).
void become_keeper(int sock, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);  // kpath already gone
  ::prctl(PR_SET_NAME, kKeeperName);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGHUP, SIG_DFL);
  ::setsid();
  int null = ::open("/dev/null", O_RDWR);
  for (int std_fd = 0; std_fd <= 2; ++std_fd) ::dup2(null, std_fd);
  if (sock > 3) ::close_range(3, static_cast<unsigned>(sock - 1), 0);
  ::close_range(static_cast<unsigned>(sock + 1), ~0u, 0);
}

[[noreturn]] void keeper_main(int sock, pid_t parent, KeeperMarker marker) {
  become_keeper(sock, parent);
  std::vector<kpath::Fd> held;
  bool committed = false;
  while (!committed) {
    auto message = receive_message(sock);
    if (!message) ::_exit(0);  // kpath ended without handing over: nothing stays
    auto fields = tab_fields(message->first);
    std::string reply = "error\tunknown request";
    try {
      if (fields.size() == 3 && fields[0] == "hold" && message->second.valid()) {
        struct stat st {};
        ::fstat(message->second.get(), &st);
        marker.namespaces.push_back({fields[1], message->second.get(), st.st_ino, fields[2]});
        held.push_back(std::move(message->second));
        reply = "ok\t" + std::to_string(held.back().get());
      } else if (fields.size() == 1 && fields[0] == "commit") {
        // Outlive kpath from here on, before it hears "ok" and exits: cleared
        // after the reply, the parent-death signal could still end the keeper.
        ::prctl(PR_SET_PDEATHSIG, 0);
        marker.keeper = ProcessId::self();
        marker.file += "/keeper-" + std::to_string(marker.keeper.pid) + "." + std::to_string(marker.keeper.start_time);
        if (!held.empty()) write_marker_file(marker);
        reply = "ok\t" + (held.empty() ? std::string() : marker.file);
        committed = true;
      }
    } catch (const std::exception& e) {
      reply = std::string("error\t") + e.what();
    }
    if (!send_message(sock, reply, -1) && !committed) ::_exit(0);
  }
  ::close(sock);
  if (held.empty()) ::_exit(0);
  for (;;) ::pause();  // until `kpath cleanup` sends SIGTERM
}

}  // namespace

std::string user_pin_dir(uid_t uid, const std::optional<std::string>& xdg_runtime_dir, bool xdg_owned_by_uid) {
  if (xdg_runtime_dir && !xdg_runtime_dir->empty() && xdg_owned_by_uid) return *xdg_runtime_dir + "/kpath/pins";
  return "/tmp/kpath-" + std::to_string(uid) + "/pins";
}

std::string caller_pin_dir() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  struct stat st {};
  // sudo and setpriv keep the environment: another user's runtime folder is not ours.
  bool owned = xdg && ::stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid();
  return user_pin_dir(::geteuid(), xdg ? std::optional<std::string>(xdg) : std::nullopt, owned);
}

void make_private_pin_dir(const std::string& pins) {
  const std::string base = fs::path(pins).parent_path().string();
  if (::mkdir(base.c_str(), 0700) != 0 && errno != EEXIST) kpath::throw_errno("create " + base);
  struct stat st {};
  // A folder someone else made in /tmp, or a link, is not ours to trust.
  if (::lstat(base.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
    throw kpath::Error(base + " is not a private folder of uid " + std::to_string(::geteuid()) +
                       " (its owner, type or mode 0700 differ): remove it, then run kpath again");
  if (::mkdir(pins.c_str(), 0700) != 0 && errno != EEXIST) kpath::throw_errno("create " + pins);
}

std::string KeeperMarker::text() const {
  std::string out = std::string(kKeeperHeader) + "\nkeeper " + std::to_string(keeper.pid) + " " +
                    std::to_string(keeper.start_time) + "\nowner " + std::to_string(owner.pid) + " " +
                    std::to_string(owner.start_time) + "\nuid " + std::to_string(uid) + "\n";
  for (const auto& ns : namespaces)
    out += "ns " + ns.name + " " + std::to_string(ns.fd) + " " + std::to_string(ns.inode) + " " + ns.label + "\n";
  return out;
}

std::optional<KeeperMarker> KeeperMarker::parse(const std::string& text) {
  auto lines = kpath::split_lines(text);
  if (lines.empty() || lines[0] != kKeeperHeader) return std::nullopt;
  KeeperMarker m;
  int seen = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::istringstream in(lines[i]);
    std::string key;
    in >> key;
    if (key == "keeper" && in >> m.keeper.pid >> m.keeper.start_time) {
      seen |= 1;
    } else if (key == "owner" && in >> m.owner.pid >> m.owner.start_time) {
      seen |= 2;
    } else if (key == "uid" && in >> m.uid) {
      seen |= 4;
    } else if (key == "ns") {
      KeptNamespace ns;
      if (!(in >> ns.name >> ns.fd >> ns.inode)) return std::nullopt;
      in.get();  // the space before the label, which may hold spaces itself
      std::getline(in, ns.label);
      m.namespaces.push_back(std::move(ns));
    } else {
      return std::nullopt;
    }
  }
  if (seen != 7 || m.keeper.pid <= 0) return std::nullopt;
  return m;
}

std::string nsenter_command(int pid, int fd) {
  // --preserve-credentials: without it nsenter calls setgroups(), which a
  // user namespace set up by an unprivileged user refuses.
  const std::string proc = "/proc/" + std::to_string(pid);
  return "nsenter --preserve-credentials --user=" + proc + "/ns/user --net=" + proc + "/fd/" + std::to_string(fd);
}

Keeper Keeper::start(const std::string& marker_dir, uid_t uid) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) kpath::throw_errno("keeper socketpair");
  kpath::Fd ours(pair[0]), theirs(pair[1]);
  KeeperMarker marker;
  marker.file = marker_dir;
  marker.owner = ProcessId::self();
  marker.uid = uid;
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) kpath::throw_errno("fork the keeper");
  if (pid == 0) {
    ours.reset();
    keeper_main(theirs.get(), parent, std::move(marker));
  }
  return Keeper(pid, std::move(ours));
}

Keeper::~Keeper() {
  if (pid_ <= 0 || !socket_.valid()) return;
  socket_.reset();  // an uncommitted keeper reads EOF and ends
  if (!committed_) ::waitpid(pid_, nullptr, 0);
}

std::string Keeper::ask(const std::string& request, int fd) {
  if (!send_message(socket_.get(), request, fd)) kpath::throw_errno("keeper pid " + std::to_string(pid_) + ": send");
  auto reply = receive_message(socket_.get());
  if (!reply) throw kpath::Error("keeper pid " + std::to_string(pid_) + " ended unexpectedly");
  auto fields = tab_fields(reply->first);
  if (fields.empty() || fields[0] != "ok")
    throw kpath::Error("keeper pid " + std::to_string(pid_) + ": " + (fields.size() > 1 ? fields[1] : reply->first));
  return fields.size() > 1 ? fields[1] : "";
}

void Keeper::hold(const Namespace& ns, const std::string& name, const std::string& label) {
  // Names and labels are pin names and node or pod names: no tabs, but check.
  if (name.find_first_of("\t\n ") != std::string::npos || label.find_first_of("\t\n") != std::string::npos)
    throw kpath::Error("keeper: cannot hold '" + name + "': a tab, newline or space in the name");
  std::lock_guard lock(*mutex_);
  if (committed_) throw kpath::Error("keeper: already committed");
  fds_[name] = std::stoi(ask("hold\t" + name + "\t" + label, ns.fd()));
}

std::string Keeper::commit() {
  std::lock_guard lock(*mutex_);
  std::string marker = ask("commit", -1);
  committed_ = true;
  if (marker.empty()) ::waitpid(pid_, nullptr, 0);  // nothing held: it has ended
  return marker;
}

std::string Keeper::enter_command(const std::string& name) const {
  std::lock_guard lock(*mutex_);
  auto it = fds_.find(name);
  if (it == fds_.end()) throw kpath::Error("keeper: holds no namespace named '" + name + "'");
  return nsenter_command(pid_, it->second);
}

std::vector<KeeperMarker> read_keeper_markers(const std::string& dir) {
  std::vector<KeeperMarker> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("keeper-") || name.ends_with(".tmp") || !entry.is_regular_file(ec)) continue;
    auto text = kpath::read_file_if_present(entry.path());
    if (!text) continue;
    if (auto m = KeeperMarker::parse(*text)) {
      m->file = entry.path().string();
      out.push_back(std::move(*m));
    }
  }
  return out;
}

bool keeper_running(const KeeperMarker& marker, uid_t uid) {
  if (!marker.keeper.alive() || state_of(marker.keeper.pid) == 'Z') return false;
  std::string comm = kpath::read_file_if_present("/proc/" + std::to_string(marker.keeper.pid) + "/comm").value_or("");
  if (comm.substr(0, comm.find('\n')) != kKeeperName) return false;
  return uid_of(marker.keeper.pid) == uid;
}

bool end_keeper(const KeeperMarker& marker, uid_t uid) {
  if (!keeper_running(marker, uid)) return false;
  if (::kill(marker.keeper.pid, SIGTERM) != 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!keeper_running(marker, uid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace netns
