// A network namespace held by file descriptor (Cilium's pkg/netns idea): it
// lives exactly as long as some fd or task holds it, so a crash or SIGKILL of
// kpath takes every namespace, veth and rule with it. Nothing is named unless
// pin() is asked for.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "base/fd.h"

namespace netns {

class Namespace {
 public:
  // A new, empty network namespace (only "lo", down). The root namespace is not touched.
  static Namespace create();
  // The calling thread's current namespace.
  static Namespace current();
  // A namespace from a path such as /run/netns/x or /proc/PID/ns/net.
  static Namespace open(const std::string& path);

  Namespace() = default;

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  // The namespace's inode number: equal ids are the same namespace.
  unsigned long id() const;

  // Runs fn on a fresh thread inside this namespace and returns its result;
  // exceptions propagate. The caller's thread never changes namespace.
  template <typename F>
  auto run(F&& fn) const -> std::invoke_result_t<F> {
    using R = std::invoke_result_t<F>;
    if constexpr (std::is_void_v<R>) {
      run_void([&] { fn(); });
    } else {
      std::optional<R> out;
      run_void([&] { out.emplace(fn()); });
      return std::move(*out);
    }
  }

  // Bind-mounts the namespace at path (for --keep), so it outlives kpath.
  void pin(const std::string& path) const;
  // Undoes pin(): unmounts and removes path. Missing path is not an error.
  static void unpin(const std::string& path);

 private:
  explicit Namespace(kpath::Fd fd) : fd_(std::move(fd)) {}
  // Moves the calling thread into this namespace (setns); only run_void's
  // throwaway threads do this, since a thread stays where it was moved.
  void enter() const;
  void run_void(const std::function<void()>& fn) const;
  kpath::Fd fd_;
};

}  // namespace netns
