#include "netns/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "base/errno.h"
#include "base/error.h"
#include "base/fd.h"
#include "netns/detail.h"

extern char** environ;

namespace netns {

namespace {

using kpath::Fd;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kStopTick{50};
// After the program's end, how long output of processes outside the sandbox's
// reach (kNetworkOnly: a process that left the group) is still waited for.
constexpr milliseconds kDrainAfterExit{500};

struct Pipe {
  Fd read, write;
};

// O_CLOEXEC: a pipe end leaked into another child would hold its EOF back.
Pipe make_pipe(const std::string& what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) kpath::throw_errno(what + ": pipe");
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Writing to a child that closed its stdin raises SIGPIPE, which would kill
// kpath. It is blocked on this thread while the loop runs, and a pending one is
// dropped before the old mask returns.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigset_t set = pipe_set();
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SigpipeBlock() {
    if (sigismember(&old_, SIGPIPE)) return;
    sigset_t set = pipe_set();
    timespec zero{};
    while (sigtimedwait(&set, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  static sigset_t pipe_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    return set;
  }
  sigset_t old_;
};

std::string command_line(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

// kpath's environment with `extra` NAME=VALUE entries replacing or adding.
std::vector<std::string> environment(const std::vector<std::string>& extra) {
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    bool replaced = std::any_of(extra.begin(), extra.end(),
                                [&](const std::string& x) { return name_of(x) == name_of(entry); });
    if (!replaced) env.push_back(std::move(entry));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// argv with argv[0] resolved against PATH.
std::vector<std::string> resolved(std::vector<std::string> argv, const std::string& what) {
  if (argv.empty()) throw kpath::Error(what + ": empty command");
  try {
    argv[0] = find_program(argv[0]);
  } catch (const kpath::Error& e) {
    throw kpath::Error(what + ": " + e.what());
  }
  return argv;
}

// The three pipes of one run and what has gone through them.
class Streams {
 public:
  Streams(Fd in, Fd out, Fd err, const std::string& input) : input_(input) {
    fds_[0] = std::move(in);
    fds_[1] = std::move(out);
    fds_[2] = std::move(err);
    for (auto& fd : fds_) set_nonblocking(fd.get());
    if (input_.empty()) fds_[0].reset();  // EOF at once
  }

  bool open() const { return fds_[0].valid() || fds_[1].valid() || fds_[2].valid(); }
  void close_all() {
    for (auto& fd : fds_) fd.reset();
  }
  void close_input() { fds_[0].reset(); }

  // Polls the pipes (and extra, when valid) for up to timeout; moves data.
  // Returns whether extra became readable.
  bool poll(int extra, milliseconds timeout, ProcessResult& result) {
    std::array<pollfd, 4> p{};
    for (int i = 0; i < 3; ++i) p[i] = {fds_[i].get(), static_cast<short>(i == 0 ? POLLOUT : POLLIN), 0};
    p[3] = {extra, POLLIN, 0};
    if (::poll(p.data(), p.size(), static_cast<int>(std::max<int64_t>(0, timeout.count()))) < 0) {
      if (errno == EINTR) return false;
      kpath::throw_errno("poll");
    }
    if (p[0].revents) feed();
    if (p[1].revents) drain(fds_[1], result.out);
    if (p[2].revents) drain(fds_[2], result.err);
    return extra >= 0 && p[3].revents != 0;
  }

 private:
  void feed() {
    ssize_t n = ::write(fds_[0].get(), input_.data() + written_, input_.size() - written_);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n < 0) return fds_[0].reset();  // EPIPE: the program did not read it all
    written_ += static_cast<size_t>(n);
    if (written_ == input_.size()) fds_[0].reset();
  }
  static void drain(Fd& fd, std::string& sink) {
    std::array<char, 65536> buf;
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n > 0) {
        sink.append(buf.data(), static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      return fd.reset();  // EOF
    }
  }

  std::array<Fd, 3> fds_;
  const std::string& input_;
  size_t written_ = 0;
};

}  // namespace

std::string ProcessResult::err_tail(std::size_t max_bytes) const {
  if (err.size() <= max_bytes) return err;
  size_t from = err.size() - max_bytes;
  size_t line = err.find('\n', from);
  if (line != std::string::npos && line + 1 < err.size()) from = line + 1;
  return "..." + err.substr(from);
}

ProcessResult run_process(const Namespace& ns, const std::vector<std::string>& argv, const ProcessOptions& options) {
  const std::string what = "run '" + command_line(argv) + "' in " + detail::label(ns);
  SandboxSpec spec;
  spec.argv = resolved(argv, what);
  spec.env = environment({});
  spec.isolation = options.isolation;
  spec.workdir = options.workdir;
  spec.held = options.held;
  Pipe in = make_pipe(what), out = make_pipe(what), err = make_pipe(what);
  spec.stdio = {in.read.get(), out.write.get(), err.write.get()};

  SigpipeBlock no_sigpipe;
  std::optional<Sandbox> sandbox;
  try {
    sandbox.emplace(Sandbox::start(ns, spec));
  } catch (const kpath::Error& e) {
    throw kpath::Error(what + ": " + e.what());
  }
  // The child holds its own copies now; ours would keep EOF from arriving.
  in.read.reset();
  out.write.reset();
  err.write.reset();

  ProcessResult result;
  Streams streams(std::move(in.write), std::move(out.read), std::move(err.read), options.input);
  const auto deadline = Clock::now() + options.timeout;
  std::optional<Clock::time_point> ended_at;
  bool killed = false;
  while (!ended_at || streams.open()) {
    auto now = Clock::now();
    if (!ended_at && !killed) {
      const bool stop = options.stop && options.stop->load();
      if (stop || now >= deadline) {
        (stop ? result.stopped : result.timed_out) = true;
        sandbox->kill_all();
        killed = true;
      }
    }
    if (ended_at && now - *ended_at >= kDrainAfterExit) break;
    milliseconds wait = killed ? kStopTick : std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1);
    if (options.stop) wait = std::min(wait, kStopTick);
    if (ended_at) wait = std::min(wait, kStopTick);
    if (streams.poll(ended_at ? -1 : sandbox->exit_fd(), wait, result)) {
      // Every process of a kSandbox is gone now; kNetworkOnly kills its group.
      ended_at = Clock::now();
      streams.close_input();
      sandbox->signal_all(SIGKILL);
    }
  }
  streams.close_all();
  std::optional<int> status = sandbox->wait();
  result.exit_code = status && WIFEXITED(*status) && !killed ? WEXITSTATUS(*status) : -1;
  return result;
}

ProcessResult run_process(const Namespace& ns, const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::milliseconds timeout) {
  ProcessOptions options;
  options.input = input;
  options.timeout = timeout;
  return run_process(ns, argv, options);
}

// ---------------------------------------------------------------------------

Daemon Daemon::start(const Namespace& ns, const std::vector<std::string>& argv, DaemonOptions options) {
  const std::string what = "start '" + command_line(argv) + "' in " + detail::label(ns);
  SandboxSpec spec;
  spec.argv = resolved(argv, what);
  spec.env = environment(options.env);
  spec.workdir = options.workdir;
  spec.held = options.held;
  Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null.valid()) kpath::throw_errno(what + ": open /dev/null");
  Fd log(::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log.valid()) kpath::throw_errno(what + ": open log " + options.log_path);
  spec.stdio = {null.get(), log.get(), log.get()};
  try {
    Sandbox sandbox = Sandbox::start(ns, spec);
    pid_t pid = sandbox.find_program_pid();
    return Daemon(std::move(sandbox), options.log_path, pid);
  } catch (const kpath::Error& e) {
    throw kpath::Error(what + ": " + e.what());
  }
}

Daemon& Daemon::operator=(Daemon&& other) noexcept {
  if (this != &other) {
    stop(milliseconds(300));
    sandbox_ = std::move(other.sandbox_);
    log_path_ = std::move(other.log_path_);
    pid_ = std::exchange(other.pid_, 0);
  }
  return *this;
}

Daemon::~Daemon() { stop(milliseconds(300)); }

bool Daemon::running() const { return sandbox_.exit_fd() >= 0 && !sandbox_.ended(); }

void Daemon::stop(std::chrono::milliseconds grace) {
  if (sandbox_.exit_fd() < 0) return;  // moved from
  if (!sandbox_.ended()) {
    sandbox_.signal_all(SIGTERM);
    pollfd p{sandbox_.exit_fd(), POLLIN, 0};
    const auto deadline = Clock::now() + grace;
    for (auto now = Clock::now();
         now < deadline &&
         ::poll(&p, 1, static_cast<int>(std::chrono::duration_cast<milliseconds>(deadline - now).count()) + 1) == 0;
         now = Clock::now()) {
    }
    if (!sandbox_.ended()) sandbox_.kill_all();
  }
  sandbox_.wait();
}

pid_t Daemon::pid() const { return running() ? pid_ : 0; }

std::string Daemon::log_tail(std::size_t max_bytes) const {
  Fd fd(::open(log_path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return {};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return {};
  const off_t from = std::max<off_t>(0, st.st_size - static_cast<off_t>(max_bytes));
  std::string text(static_cast<size_t>(st.st_size - from), '\0');
  ssize_t n = ::pread(fd.get(), text.data(), text.size(), from);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return text;
}

}  // namespace netns
