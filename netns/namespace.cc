#include "netns/namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <thread>

#include "base/error.h"
#include "base/errno.h"
#include "netns/detail.h"

namespace netns {

using kpath::Fd;
using kpath::throw_errno;

namespace {

// The calling thread's own namespace: /proc/self would be the main thread's.
constexpr const char* kThreadNetns = "/proc/thread-self/ns/net";

Fd open_netns(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw_errno("open network namespace " + path);
  return fd;
}

}  // namespace

Namespace Namespace::create() {
  // unshare() moves the calling thread for good, so a throwaway thread does it
  // and hands back an fd; the namespace then lives exactly as long as the fd.
  Fd fd;
  int err = 0;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    fd.reset(::open(kThreadNetns, O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) err = errno;
  }).join();
  if (err != 0) throw_errno("create network namespace", err);
  return Namespace(std::move(fd));
}

Namespace Namespace::current() { return Namespace(open_netns(kThreadNetns)); }

Namespace Namespace::open(const std::string& path) { return Namespace(open_netns(path)); }

unsigned long Namespace::id() const {
  struct stat st {};
  if (!fd_.valid() || ::fstat(fd_.get(), &st) != 0) return 0;
  return st.st_ino;
}

void Namespace::enter() const {
  if (::setns(fd_.get(), CLONE_NEWNET) != 0) throw_errno("enter network namespace net:[" + std::to_string(id()) + "]");
}

void Namespace::run_void(const std::function<void()>& fn) const {
  // A fresh thread enters and then dies with the namespace switch, so no
  // thread of the caller (or of a pool) is ever left in the wrong namespace.
  std::exception_ptr error;
  std::thread([&] {
    try {
      enter();
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error) std::rethrow_exception(error);
}

void Namespace::pin(const std::string& path) const {
  const std::string what = "pin " + detail::label(*this) + " at " + path;
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw kpath::Error(what + ": create " + parent.string() + ": " + ec.message());

  // O_EXCL: mounting over an existing pin would stack mounts and leak one.
  Fd target(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!target.valid()) throw_errno(what + ": create mount point");
  target.reset();

  const std::string source = "/proc/self/fd/" + std::to_string(fd_.get());
  if (::mount(source.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    throw_errno(what + ": bind mount", err);
  }
}

void Namespace::unpin(const std::string& path) {
  // EINVAL: not a mount point (half-done pin); ENOENT: already gone.
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    throw_errno("unpin network namespace at " + path + ": unmount");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("unpin network namespace at " + path + ": remove");
}

}  // namespace netns
