// Reading input files that may be anything a path can name: a FIFO or a
// device is never opened (it could block or have side effects), a link loop or
// a dangling link says so, and a file above a size limit is not read at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kpath {

enum class FileKind {
  Regular,
  Directory,
  Fifo,
  Socket,
  CharDevice,
  BlockDevice,
  DanglingLink,  // a symbolic link whose target does not exist
  LinkLoop,      // symbolic links that lead back to themselves (ELOOP)
  Missing,       // nothing at the path
  Unreachable,   // stat failed for another reason (errno in FileInfo::error)
};

// What a path names, found with stat and lstat alone (nothing is opened).
struct FileInfo {
  FileKind kind = FileKind::Missing;
  uint64_t size = 0;  // Regular only
  std::string link;   // DanglingLink: where the link points
  int error = 0;      // Unreachable: errno
};
FileInfo inspect_file(const std::string& path);

// "a directory", "a FIFO (named pipe)", "a dangling symbolic link to 'x'",
// "a symbolic link loop", ... ; "a regular file" for Regular.
std::string describe(const FileInfo& info);

// "3.2 GB", "512 KiB": a size for messages.
std::string human_size(uint64_t bytes);

// The content of the regular file at `path`, at most `max_bytes` long.
// Anything else throws kpath::Error(path, 0, 0, ...) saying what the path is
// instead; `what` names the file's role in messages ("case file").
std::string read_regular_file(const std::string& path, uint64_t max_bytes, const std::string& what);

// What a read of `fd` to its end got: the text (it stops once that is longer
// than `max_bytes`) and, when a read failed, its errno. EINTR is retried.
struct FdText {
  std::string text;
  int error = 0;
};
FdText read_to_end(int fd, uint64_t max_bytes = UINT64_MAX);

// The content of a file whose kind kpath knows (/proc, /sys, one it wrote
// itself), or nullopt when it cannot be opened or read. Not for paths from a
// user: read_regular_file looks at those first.
std::optional<std::string> read_file_if_present(const std::string& path);

}  // namespace kpath
