#include "netns/process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <functional>

#include <boost/asio.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include "base/error.h"
#include "base/fd.h"
#include "base/errno.h"
#include "netns/detail.h"

namespace netns {

namespace {

namespace asio = boost::asio;
namespace bp = boost::process;
using kpath::Fd;

// Runs in the child between fork and exec, where only async-signal-safe calls
// are allowed: wire stdio to our pipes, die with kpath, enter the namespace.
struct ChildSetup : bp::extend::handler {
  int netns_fd;
  pid_t parent;
  std::array<int, 3> stdio;  // fds that become 0, 1, 2

  [[noreturn]] static void fail(const char* message) {
    ssize_t ignored = ::write(STDERR_FILENO, message, std::strlen(message));
    (void)ignored;
    ::_exit(127);
  }

  template <typename Executor>
  void on_exec_setup(Executor&) const {
    for (int i = 0; i < 3; ++i) {
      // dup2 onto itself would keep O_CLOEXEC; clear it instead.
      if (stdio[i] == i) {
        if (::fcntl(i, F_SETFD, 0) != 0) fail("kpath: cannot set up stdio\n");
      } else if (::dup2(stdio[i], i) < 0) {
        fail("kpath: cannot set up stdio\n");
      }
    }
    // getppid() check: kpath may have died before the death signal was armed.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)
      fail("kpath: parent gone before exec\n");
    if (::setns(netns_fd, CLONE_NEWNET) != 0) fail("kpath: setns into the network namespace failed\n");
  }
};

struct Pipe {
  Fd read, write;
};

// O_CLOEXEC: a pipe end leaked into another child would hold its EOF back.
Pipe make_pipe(const std::string& what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) kpath::throw_errno(what + ": pipe");
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

// Readable when the child has exited; lets the event loop wait for exit
// without a SIGCHLD handler (which would be process-wide state).
Fd open_pidfd(pid_t pid, const std::string& what) {
  Fd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd.valid()) kpath::throw_errno(what + ": pidfd_open");
  return fd;
}

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

using Descriptor = asio::posix::stream_descriptor;

void read_to_eof(Descriptor& from, std::string& sink, std::array<char, 65536>& buf,
                 const std::function<void()>& done) {
  from.async_read_some(asio::buffer(buf), [&, done](boost::system::error_code ec, size_t n) {
    sink.append(buf.data(), n);
    if (ec) return done();  // EOF, or closed by the timeout
    read_to_eof(from, sink, buf, done);
  });
}

boost::filesystem::path find_program(const std::string& name, const std::string& what) {
  if (name.find('/') != std::string::npos) return name;
  auto path = bp::search_path(name);
  if (path.empty()) throw kpath::Error(what + ": " + name + " not found in PATH");
  return path;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

}  // namespace

ProcessResult run_process(const Namespace& ns, const std::vector<std::string>& argv,
                          const std::string& input, std::chrono::milliseconds timeout) {
  const std::string what = "run '" + command_line(argv) + "' in " + detail::label(ns);
  if (argv.empty()) throw kpath::Error(what + ": empty command");
  const auto program = find_program(argv[0], what);

  Pipe in = make_pipe(what), out = make_pipe(what), err = make_pipe(what);
  ChildSetup setup;
  setup.netns_fd = ns.fd();
  setup.parent = ::getpid();
  setup.stdio = {in.read.get(), out.write.get(), err.write.get()};

  bp::child child;
  try {
    child = bp::child(bp::exe = program, bp::args = std::vector<std::string>(argv.begin() + 1, argv.end()),
                      setup);
  } catch (const std::system_error& e) {
    throw kpath::Error(what + ": " + e.what());
  }
  // The child holds its own copies now; ours would keep EOF from arriving.
  in.read.reset();
  out.write.reset();
  err.write.reset();

  const pid_t pid = child.id();
  asio::io_context io;
  Descriptor stdin_w(io, in.write.release()), stdout_r(io, out.read.release()),
      stderr_r(io, err.read.release()), exit_fd(io, open_pidfd(pid, what).release());
  asio::steady_timer timer(io, timeout);

  ProcessResult result;
  bool exited = false;
  int pending = 4;  // stdin fed, stdout EOF, stderr EOF, child exited
  auto one_done = [&] {
    if (--pending == 0) timer.cancel();
  };
  std::array<char, 65536> out_buf, err_buf;

  SigpipeBlock no_sigpipe;
  asio::async_write(stdin_w, asio::buffer(input), [&](boost::system::error_code, size_t) {
    boost::system::error_code ignored;
    stdin_w.close(ignored);  // EOF for the child (or it already left: EPIPE)
    one_done();
  });
  read_to_eof(stdout_r, result.out, out_buf, one_done);
  read_to_eof(stderr_r, result.err, err_buf, one_done);
  exit_fd.async_wait(Descriptor::wait_read, [&](boost::system::error_code) {
    exited = true;
    one_done();
  });
  timer.async_wait([&](boost::system::error_code ec) {
    if (ec) return;  // cancelled: everything finished in time
    if (!exited) {
      ::kill(pid, SIGKILL);
      result.timed_out = true;
    }
    // Grandchildren may still hold the pipes; stop waiting for them.
    boost::system::error_code ignored;
    stdin_w.close(ignored);
    stdout_r.close(ignored);
    stderr_r.close(ignored);
  });
  io.run();

  child.wait();  // already exited: this only reaps it
  const int status = child.native_exit_code();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace netns
