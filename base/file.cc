#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "base/errno.h"
#include "base/error.h"
#include "base/fd.h"

namespace kpath {

namespace {

FileKind kind_of(mode_t mode) {
  if (S_ISREG(mode)) return FileKind::Regular;
  if (S_ISDIR(mode)) return FileKind::Directory;
  if (S_ISFIFO(mode)) return FileKind::Fifo;
  if (S_ISSOCK(mode)) return FileKind::Socket;
  if (S_ISCHR(mode)) return FileKind::CharDevice;
  return FileKind::BlockDevice;
}

std::string link_target(const std::string& path) {
  std::vector<char> buf(4096);
  ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  return n < 0 ? std::string() : std::string(buf.data(), static_cast<size_t>(n));
}

[[noreturn]] void fail(const std::string& path, const std::string& message) { throw Error(path, 0, 0, message); }

void check_regular(const std::string& path, const FileInfo& info, const std::string& what) {
  switch (info.kind) {
    case FileKind::Regular: return;
    case FileKind::Missing: fail(path, "no such " + what);
    case FileKind::Unreachable: fail(path, "cannot look at the " + what + ": " + error_text(info.error));
    default: fail(path, "is " + describe(info) + ", not a " + what + " (kpath reads only regular files)");
  }
}

}  // namespace

FileInfo inspect_file(const std::string& path) {
  FileInfo info;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    info.kind = kind_of(st.st_mode);
    if (info.kind == FileKind::Regular) info.size = static_cast<uint64_t>(st.st_size);
    return info;
  }
  int err = errno;
  if (err == ELOOP) {
    info.kind = FileKind::LinkLoop;
  } else if (err == ENOENT && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    info.kind = FileKind::DanglingLink;
    info.link = link_target(path);
  } else if (err != ENOENT) {
    info.kind = FileKind::Unreachable;
    info.error = err;
  }
  return info;
}

std::string describe(const FileInfo& info) {
  switch (info.kind) {
    case FileKind::Regular: return "a regular file";
    case FileKind::Directory: return "a directory";
    case FileKind::Fifo: return "a FIFO (named pipe)";
    case FileKind::Socket: return "a socket";
    case FileKind::CharDevice: return "a character device";
    case FileKind::BlockDevice: return "a block device";
    case FileKind::DanglingLink: return "a dangling symbolic link to '" + info.link + "'";
    case FileKind::LinkLoop: return "a symbolic link loop";
    case FileKind::Missing: return "missing";
    case FileKind::Unreachable: return std::string("unreachable (") + error_text(info.error) + ")";
  }
  return "?";
}

std::string human_size(uint64_t bytes) {
  static const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, v == static_cast<double>(static_cast<uint64_t>(v)) ? "%.0f %s" : "%.1f %s", v,
                  kUnits[unit]);
  return buf;
}

std::string read_regular_file(const std::string& path, uint64_t max_bytes, const std::string& what) {
  // Look before opening: opening a FIFO blocks until a writer comes, and
  // opening a device can act on it.
  FileInfo info = inspect_file(path);
  check_regular(path, info, what);
  auto too_large = [&](uint64_t size) {
    fail(path, "is " + human_size(size) + ", above the " + human_size(max_bytes) + " limit for a " + what);
  };
  if (info.size > max_bytes) too_large(info.size);
  // O_NONBLOCK: should the path have become a FIFO since, open still returns.
  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) fail(path, "cannot open the " + what + ": " + error_text(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(path, "cannot look at the " + what + ": " + error_text(errno));
  if (!S_ISREG(st.st_mode)) {
    FileInfo now;
    now.kind = kind_of(st.st_mode);
    check_regular(path, now, what);
  }
  FdText r = read_to_end(fd.get(), max_bytes);
  if (r.error) fail(path, "cannot read the " + what + ": " + error_text(r.error));
  if (r.text.size() > max_bytes) too_large(r.text.size());  // it grew while we read
  return std::move(r.text);
}

FdText read_to_end(int fd, uint64_t max_bytes) {
  FdText r;
  char buf[65536];
  while (r.text.size() <= max_bytes) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.error = errno;
      break;
    }
    if (n == 0) break;
    r.text.append(buf, static_cast<size_t>(n));
  }
  return r;
}

std::optional<std::string> read_file_if_present(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return std::nullopt;
  FdText r = read_to_end(fd.get());
  if (r.error) return std::nullopt;
  return std::move(r.text);
}

}  // namespace kpath
