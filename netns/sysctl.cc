#include "netns/sysctl.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/errno.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "netns/detail.h"

namespace netns {

namespace {

using kpath::Fd;

// key is relative to /proc/sys; ".." or an absolute path would escape it.
std::string sysctl_path(const std::string& key) {
  if (key.empty() || key.front() == '/' || key.find("..") != std::string::npos)
    throw kpath::Error("bad sysctl key '" + key + "' (want a path below /proc/sys)");
  return "/proc/sys/" + key;
}

void write_all(int fd, const std::string& text, const std::string& what) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) kpath::throw_errno(what);
    done += static_cast<size_t>(n);
  }
}

}  // namespace

// /proc/sys/net resolves to the namespace of the opening thread, hence run().
void set_sysctl(const Namespace& ns, const std::string& key, const std::string& value) {
  const std::string path = sysctl_path(key);
  const std::string what = "set sysctl " + key + "=" + value + " in " + detail::label(ns);
  ns.run([&] {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) kpath::throw_errno(what);
    write_all(fd.get(), value + "\n", what);
  });
}

std::string get_sysctl(const Namespace& ns, const std::string& key) {
  const std::string path = sysctl_path(key);
  const std::string what = "read sysctl " + key + " in " + detail::label(ns);
  std::string text = ns.run([&] {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) kpath::throw_errno(what);
    kpath::FdText r = kpath::read_to_end(fd.get());
    if (r.error) kpath::throw_errno(what, r.error);
    return std::move(r.text);
  });
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace netns
