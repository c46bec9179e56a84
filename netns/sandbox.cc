#include "netns/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/errno.h"
#include "base/error.h"

namespace netns {

namespace {

using kpath::Fd;

// ---------------------------------------------------------------------------
// Child side. Everything below up to the parent side runs after a raw clone of
// a multithreaded process: only system calls, no allocation, no locks, no
// glibc fork (its atfork handlers take malloc's locks, which another thread
// may have held at the moment of the clone).

// Where the child finds its descriptors once they are rearranged.
constexpr int kAliveFd = 3;   // read end; EOF when kpath is gone or wants it over
constexpr int kStatusFd = 4;  // the init writes the program's wait status here
constexpr int kSetupFd = 5;   // failures before exec, as a SetupReport
constexpr int kNetnsFd = 6;
constexpr int kFirstFree = 7;

// What failed before exec; the parent turns the step into text.
enum Step : int32_t {
  kStepFds,
  kStepSignals,
  kStepSession,
  kStepParent,
  kStepSetns,
  kStepPrivate,
  kStepSys,
  kStepSysNet,
  kStepProc,
  kStepProcSys,
  kStepProcSysNet,
  kStepTmp,
  kStepRun,
  kStepKeep,
  kStepFork,
  kStepChdir,
  kStepExec,
};

struct SetupReport {
  int32_t step;
  int32_t err;
};

// Everything the child needs, prepared by the parent before the clone (the
// child reads its own copy of this memory).
// Host paths directly under /tmp or /run that stay visible in the sandbox: the
// program's working directory, kpath's own and the program itself may live in
// /tmp (a case in a clean clone under /tmp). At most this many.
constexpr int kMaxKept = 4;

struct ChildPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* workdir;         // null: inherit
  int source_fds[kFirstFree];  // kpath's fds that become 0..6 (-1: none)
  bool sandbox;
  pid_t parent;
  const char* kept[kMaxKept];  // "/tmp/NAME" or "/run/NAME"; null: unused
  bool keep_tmp, keep_run;     // the host's whole /tmp or /run (a workdir of /tmp itself)
  // SandboxSpec::held: kpath's fds the init keeps at kFirstFree.. (close-on-exec,
  // so the program does not get them), with room for their temporary copies.
  const int* held;
  int* held_high;
  int held_count;
};

[[noreturn]] void fail(Step step) {
  SetupReport report{step, errno};
  ssize_t ignored = ::write(kSetupFd, &report, sizeof report);
  (void)ignored;
  ::_exit(127);
}

// Moves the plan's fds onto 0..6 and the held ones after them, and closes
// every other one (other sandboxes' pipes included, whose EOF would otherwise
// wait for this process). Two steps, since a source may sit where another
// one's target is.
void arrange_fds(const ChildPlan& plan) {
  const int floor = kFirstFree + plan.held_count > 64 ? kFirstFree + plan.held_count : 64;
  int high[kFirstFree];
  for (int i = 0; i < kFirstFree; ++i) {
    high[i] = -1;
    if (plan.source_fds[i] < 0) continue;
    high[i] = ::fcntl(plan.source_fds[i], F_DUPFD_CLOEXEC, floor);
    if (high[i] < 0) fail(kStepFds);
  }
  for (int i = 0; i < plan.held_count; ++i) {
    plan.held_high[i] = ::fcntl(plan.held[i], F_DUPFD_CLOEXEC, floor);
    if (plan.held_high[i] < 0) fail(kStepFds);
  }
  for (int i = 0; i < kFirstFree; ++i) {
    if (high[i] < 0) continue;
    // stdio survives exec; the sandbox's own pipes do not reach the program.
    if (::dup3(high[i], i, i < 3 ? 0 : O_CLOEXEC) < 0) fail(kStepFds);
  }
  for (int i = 0; i < plan.held_count; ++i)
    if (::dup3(plan.held_high[i], kFirstFree + i, O_CLOEXEC) < 0) fail(kStepFds);
  if (::syscall(SYS_close_range, kFirstFree + plan.held_count, ~0U, 0) != 0) fail(kStepFds);
}

// Default handlers, everything blocked: the init reads its signals from a
// signalfd, and a signal blocked is never dropped (not even for pid 1).
void block_signals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &dfl, nullptr);  // fails only for the libc-reserved ones
  }
  sigset_t all;
  sigfillset(&all);
  if (::sigprocmask(SIG_SETMASK, &all, nullptr) != 0) fail(kStepSignals);
}

void must_mount(Step step, const char* source, const char* target, const char* type, unsigned long flags,
                const char* data) {
  if (::mount(source, target, type, flags, data) != 0) fail(step);
}

// A bind mount of path onto itself with the given read-only-ness.
void rebind(Step step, const char* path, bool read_only) {
  constexpr unsigned long kSafe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  must_mount(step, path, path, nullptr, MS_BIND | MS_REC, nullptr);
  must_mount(step, nullptr, path, nullptr, MS_BIND | MS_REMOUNT | kSafe | (read_only ? MS_RDONLY : 0), nullptr);
}

// The mount namespace of the sandbox (see sandbox.h). Nothing here propagates
// to the host: / turns private first.
// Binds the host's path (held by fd since before the tmpfs covered it) onto a
// fresh mount point of the same name in the sandbox's tmpfs.
void bind_kept(int fd, const char* path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) fail(kStepKeep);
  if (S_ISDIR(st.st_mode)) {
    if (::mkdir(path, 0755) != 0 && errno != EEXIST) fail(kStepKeep);
  } else {
    int made = ::open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (made < 0) fail(kStepKeep);
    ::close(made);
  }
  char source[32] = "/proc/self/fd/";  // the new proc: this process is in it
  char digits[12];
  int n = 0;
  for (int v = fd; v > 0 || n == 0; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
  char* out = source + 14;
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
  must_mount(kStepKeep, source, path, nullptr, MS_BIND | MS_REC, nullptr);
  ::close(fd);
}

void mount_sandbox(const ChildPlan& plan) {
  constexpr unsigned long kSafe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  must_mount(kStepPrivate, nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
  // The sysfs of the network namespace this process is in (set before), as
  // `ip netns exec` mounts it. Only the network devices stay writable, so a
  // program cannot reach module parameters or other host-wide knobs.
  // Read-only per mount, not per superblock (which the writable part shares).
  ::umount2("/sys", MNT_DETACH);  // EINVAL when nothing is mounted there
  must_mount(kStepSys, "sysfs", "/sys", "sysfs", kSafe, nullptr);
  rebind(kStepSysNet, "/sys/devices/virtual/net", false);
  must_mount(kStepSys, nullptr, "/sys", nullptr, MS_BIND | MS_REMOUNT | kSafe | MS_RDONLY, nullptr);
  // proc of the new PID namespace; /proc/sys/net shows the node's namespace.
  ::umount2("/proc", MNT_DETACH);
  must_mount(kStepProc, "proc", "/proc", "proc", kSafe, nullptr);
  rebind(kStepProcSys, "/proc/sys", true);
  rebind(kStepProcSysNet, "/proc/sys/net", false);
  int kept_fds[kMaxKept];
  for (int i = 0; i < kMaxKept; ++i) kept_fds[i] = plan.kept[i] ? ::open(plan.kept[i], O_PATH | O_CLOEXEC) : -1;
  if (!plan.keep_tmp) must_mount(kStepTmp, "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  if (!plan.keep_run) must_mount(kStepRun, "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  for (int i = 0; i < kMaxKept; ++i)
    if (kept_fds[i] >= 0) bind_kept(kept_fds[i], plan.kept[i]);
}

// clone3 used as fork: returns 0 in the child. pidfd may be null.
pid_t raw_fork(uint64_t flags, int* pidfd) {
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } args{};
  args.flags = flags | (pidfd ? CLONE_PIDFD : 0);
  args.pidfd = reinterpret_cast<uintptr_t>(pidfd);
  args.exit_signal = SIGCHLD;
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

[[noreturn]] void exec_program(const ChildPlan& plan) {
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) fail(kStepSignals);
  if (plan.workdir && ::chdir(plan.workdir) != 0) fail(kStepChdir);
  ::execve(plan.path, plan.argv, plan.envp);
  fail(kStepExec);
}

// Forwards the stop signals to every process of the sandbox, reaps orphans,
// and ends the sandbox when the program exits or kpath goes away.
[[noreturn]] void init_loop(pid_t program) {
  sigset_t watched;
  sigemptyset(&watched);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&watched, sig);
  int sfd = ::signalfd(-1, &watched, SFD_CLOEXEC);
  if (sfd < 0) ::_exit(126);
  pollfd fds[2] = {{kAliveFd, POLLIN, 0}, {sfd, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      ::_exit(126);
    }
    if (fds[0].revents != 0) ::_exit(1);  // kpath gone: our exit kills the rest
    signalfd_siginfo info;
    if (::read(sfd, &info, sizeof info) != sizeof info) continue;
    if (info.ssi_signo != SIGCHLD) {
      ::kill(-1, static_cast<int>(info.ssi_signo));  // all of the namespace but us
      continue;
    }
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
      if (pid != program) continue;
      ssize_t ignored = ::write(kStatusFd, &status, sizeof status);
      (void)ignored;
      ::_exit(0);
    }
  }
}

[[noreturn]] void sandbox_init(const ChildPlan& plan) {
  if (::setsid() < 0) fail(kStepSession);  // Ctrl-C on kpath's terminal is kpath's alone
  if (::setns(kNetnsFd, CLONE_NEWNET) != 0) fail(kStepSetns);
  ::close(kNetnsFd);
  mount_sandbox(plan);
  pid_t program = raw_fork(0, nullptr);
  if (program < 0) fail(kStepFork);
  if (program == 0) {
    if (::setpgid(0, 0) != 0) fail(kStepSession);
    exec_program(plan);
  }
  ::close(kSetupFd);  // the program's copy closes at exec: then kpath sees EOF
  init_loop(program);
}

[[noreturn]] void network_only_child(const ChildPlan& plan) {
  if (::setsid() < 0) fail(kStepSession);
  // getppid(): kpath may have died before the death signal was armed.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != plan.parent) fail(kStepParent);
  if (::setns(kNetnsFd, CLONE_NEWNET) != 0) fail(kStepSetns);
  ::close(kNetnsFd);
  exec_program(plan);
}

[[noreturn]] void child_main(const ChildPlan& plan) {
  arrange_fds(plan);
  block_signals();
  if (plan.sandbox) sandbox_init(plan);
  network_only_child(plan);
}

// ---------------------------------------------------------------------------
// Parent side.

const char* step_text(int32_t step) {
  switch (step) {
    case kStepFds: return "set up descriptors";
    case kStepSignals: return "set up signals";
    case kStepSession: return "start a session";
    case kStepParent: return "kpath exited before the program started";
    case kStepSetns: return "enter the network namespace";
    case kStepPrivate: return "make / private in the sandbox";
    case kStepSys: return "mount the namespace's sysfs on /sys";
    case kStepSysNet: return "make /sys/devices/virtual/net writable";
    case kStepProc: return "mount proc on /proc";
    case kStepProcSys: return "make /proc/sys read-only";
    case kStepProcSysNet: return "make /proc/sys/net writable";
    case kStepTmp: return "mount tmpfs on /tmp";
    case kStepRun: return "mount tmpfs on /run";
    case kStepKeep: return "keep the working directory under /tmp or /run visible";
    case kStepFork: return "fork the program";
    case kStepChdir: return "change to the working directory";
    case kStepExec: return "exec";
  }
  return "start";
}

struct Pipe {
  Fd read, write;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) kpath::throw_errno("pipe");
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Reads the setup pipe to EOF: nothing when the program was exec'd.
std::optional<SetupReport> read_setup_report(int fd) {
  SetupReport report{};
  size_t have = 0;
  for (;;) {
    ssize_t n = ::read(fd, reinterpret_cast<char*>(&report) + have, sizeof report - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<size_t>(n);
    if (have == sizeof report) break;
  }
  if (have == sizeof report) return report;
  return std::nullopt;
}

bool pidfd_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  int n;
  do n = ::poll(&p, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  return n > 0;
}

// The entry directly under /tmp or /run that holds path ("/tmp/x/y" ->
// "/tmp/x"); "/tmp" for /tmp itself; "" elsewhere or for a relative path.
std::string private_root_entry(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty() || path[0] != '/') return "";
  auto parts = fs::path(path).lexically_normal();
  auto it = parts.begin();
  if (it == parts.end() || ++it == parts.end()) return "";
  if (*it != "tmp" && *it != "run") return "";
  auto top = "/" + it->string();
  return ++it == parts.end() || it->empty() ? top : top + "/" + it->string();
}

// What of the host's /tmp and /run the sandbox keeps (see ChildPlan::kept).
struct Kept {
  std::vector<std::string> entries;
  bool tmp = false, run = false;
};

Kept kept_entries(const SandboxSpec& spec) {
  Kept kept;
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  for (const std::string* path : std::initializer_list<const std::string*>{&spec.workdir, &cwd, &spec.argv[0]}) {
    std::string entry = private_root_entry(*path);
    if (entry == "/tmp") kept.tmp = true;
    else if (entry == "/run") kept.run = true;
    else if (!entry.empty() && std::find(kept.entries.begin(), kept.entries.end(), entry) == kept.entries.end())
      kept.entries.push_back(entry);
  }
  return kept;
}

}  // namespace

std::string held_fd_path(std::size_t index) {
  return "/proc/1/fd/" + std::to_string(kFirstFree + static_cast<int>(index));
}

Sandbox Sandbox::start(const Namespace& ns, const SandboxSpec& spec) {
  if (spec.argv.empty()) throw kpath::Error("sandbox: empty command");
  std::vector<char*> argv = c_strings(spec.argv), envp = c_strings(spec.env);
  Pipe alive = make_pipe(), status = make_pipe(), setup = make_pipe();
  const bool sandbox = spec.isolation == Isolation::kSandbox;

  ChildPlan plan{};
  plan.path = spec.argv[0].c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.workdir = spec.workdir.empty() ? nullptr : spec.workdir.c_str();
  plan.source_fds[0] = spec.stdio[0];
  plan.source_fds[1] = spec.stdio[1];
  plan.source_fds[2] = spec.stdio[2];
  plan.source_fds[kAliveFd] = alive.read.get();
  plan.source_fds[kStatusFd] = status.write.get();
  plan.source_fds[kSetupFd] = setup.write.get();
  plan.source_fds[kNetnsFd] = ns.fd();
  plan.sandbox = sandbox;
  plan.parent = ::getpid();
  const Kept kept = kept_entries(spec);
  static_assert(kMaxKept >= 3, "workdir, kpath's directory and the program");
  for (size_t i = 0; i < kept.entries.size(); ++i) plan.kept[i] = kept.entries[i].c_str();
  plan.keep_tmp = kept.tmp;
  plan.keep_run = kept.run;
  std::vector<int> held_high(spec.held.size());
  plan.held = sandbox ? spec.held.data() : nullptr;
  plan.held_high = held_high.data();
  plan.held_count = sandbox ? static_cast<int>(spec.held.size()) : 0;

  int pidfd = -1;
  // UTS and IPC too: `hostname` or SysV IPC in a program must not reach the host.
  pid_t pid = raw_fork(sandbox ? CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC : 0, &pidfd);
  if (pid == 0) child_main(plan);
  if (pid < 0) kpath::throw_errno("sandbox: clone");

  Sandbox s;
  s.isolation_ = spec.isolation;
  s.pid_ = pid;
  s.pidfd_.reset(pidfd);
  s.alive_ = std::move(alive.write);
  s.status_ = std::move(status.read);
  alive.read.reset();
  status.write.reset();
  setup.write.reset();
  if (auto report = read_setup_report(setup.read.get())) {
    s.kill_all();
    s.wait();
    throw kpath::Error(std::string("sandbox: ") + step_text(report->step) + ": " + kpath::error_text(report->err));
  }
  s.program_pid_ = sandbox ? 0 : pid;
  return s;
}

Sandbox::Sandbox(Sandbox&& other) noexcept { *this = std::move(other); }

Sandbox& Sandbox::operator=(Sandbox&& other) noexcept {
  if (this == &other) return *this;
  release();
  isolation_ = other.isolation_;
  pid_ = std::exchange(other.pid_, 0);
  program_pid_ = std::exchange(other.program_pid_, 0);
  pidfd_ = std::move(other.pidfd_);
  alive_ = std::move(other.alive_);
  status_ = std::move(other.status_);
  reaped_ = std::exchange(other.reaped_, true);
  status_value_ = other.status_value_;
  return *this;
}

Sandbox::~Sandbox() { release(); }

void Sandbox::release() noexcept {
  if (pid_ == 0 || reaped_) return;
  kill_all();
  wait();
}

bool Sandbox::ended() const { return reaped_ || pidfd_readable(pidfd_.get(), 0); }

void Sandbox::signal_all(int sig) const {
  if (reaped_ || pid_ == 0) return;
  if (isolation_ == Isolation::kNetworkOnly) {
    ::kill(-pid_, sig);  // the group outlives a zombie leader; the pid is not reused before reaping
    return;
  }
  // The init forwards SIGTERM, SIGINT and SIGHUP; SIGKILL ends it and with it the namespace.
  ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
}

void Sandbox::kill_all() const { signal_all(SIGKILL); }

std::optional<int> Sandbox::wait() {
  if (reaped_ || pid_ == 0) return status_value_;
  pidfd_readable(pidfd_.get(), -1);
  // Stragglers of the program's group (kNetworkOnly) go before the leader is reaped.
  if (isolation_ == Isolation::kNetworkOnly) ::kill(-pid_, SIGKILL);
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) != 0 && errno == EINTR) {
  }
  reaped_ = true;
  program_pid_ = 0;
  alive_.reset();
  if (isolation_ == Isolation::kNetworkOnly) {
    if (info.si_code == CLD_EXITED) status_value_ = (info.si_status & 0xff) << 8;
    else status_value_ = info.si_status & 0x7f;  // killed or dumped: the signal
    return status_value_;
  }
  int status = 0;
  if (::read(status_.get(), &status, sizeof status) == sizeof status) status_value_ = status;
  return status_value_;
}

pid_t Sandbox::find_program_pid() const {
  if (isolation_ == Isolation::kNetworkOnly || reaped_) return program_pid_;
  // The init's child that is pid 2 of the namespace (orphans adopted by the
  // init are its children too).
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "status");
    std::string line, ppid, nspid;
    while (std::getline(in, line)) {
      if (line.starts_with("PPid:")) ppid = line.substr(5);
      if (line.starts_with("NSpid:")) nspid = line.substr(6);
    }
    std::istringstream p(ppid), ns(nspid);
    pid_t parent = 0, outer = 0, inner = 0;
    p >> parent;
    ns >> outer;
    for (pid_t v; ns >> v;) inner = v;
    if (parent == pid_ && inner == 2) return outer;
  }
  return 0;
}

std::string find_program(const std::string& name) {
  if (name.empty()) throw kpath::Error("empty program name");
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return candidate;
  }
  throw kpath::Error(name + " not found in PATH");
}

}  // namespace netns
