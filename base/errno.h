// kpath's one errno path: "what: text" as kpath::Error, with a strerror that
// is safe on the worker threads (probers, echo servers, namespace threads).
#pragma once

#include <cerrno>
#include <string>

namespace kpath {

// Throws kpath::Error("what: error_text(err)").
[[noreturn]] void throw_errno(const std::string& what, int err = errno);
// strerror(err), thread-safe.
std::string error_text(int err);

}  // namespace kpath
