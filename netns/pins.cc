#include "netns/pins.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/errno.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/file.h"
#include "netns/keeper.h"

namespace netns {

namespace {

constexpr const char* kMarkerHeader = "kpath-pin v1";

// Field 22 of /proc/PID/stat, counted after the command's closing ')' (the
// command itself may hold spaces and parentheses).
std::optional<unsigned long long> start_time_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return std::nullopt;
  auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i)  // fields 3 (state) .. 22 (starttime)
    if (!(fields >> field)) return std::nullopt;
  try {
    return std::stoull(field);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// FNV-1a, 64 bits: a stable hash (std::hash may change between builds).
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool name_char(unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; }

std::string sanitized(const std::string& label) {
  std::string out = label;
  for (auto& c : out)
    if (!name_char(static_cast<unsigned char>(c))) c = '_';
  return out;
}

void write_marker(const std::string& path, const std::string& text) {
  kpath::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) kpath::throw_errno("write pin marker " + path);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::unlink(path.c_str());
      kpath::throw_errno("write pin marker " + path, err);
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

ProcessId ProcessId::self() {
  auto p = of(static_cast<int>(::getpid()));
  if (!p) throw kpath::Error("read /proc/self/stat: no start time");
  return *p;
}

std::optional<ProcessId> ProcessId::of(int pid) {
  if (pid <= 0) return std::nullopt;
  auto start = start_time_of(pid);
  if (!start) return std::nullopt;
  return ProcessId{pid, *start};
}

bool ProcessId::alive() const {
  auto now = of(pid);
  return now && now->start_time == start_time;
}

std::string owned_name(const std::string& prefix) {
  ProcessId self = ProcessId::self();
  return prefix + "-" + std::to_string(self.pid) + "." + std::to_string(self.start_time);
}

std::optional<ProcessId> owner_in_name(const std::string& name, const std::string& prefix) {
  if (!name.starts_with(prefix + "-")) return std::nullopt;
  ProcessId id;
  char dot = 0;
  std::istringstream in(name.substr(prefix.size() + 1));
  if (!(in >> id.pid >> dot >> id.start_time) || dot != '.' || id.pid <= 0) return std::nullopt;
  return id;
}

std::string pin_name(const std::string& prefix, const std::string& label) {
  std::string clean = sanitized(label);
  if (clean.empty() || clean == "." || clean == "..") clean = "_" + clean;
  std::string whole = prefix + clean;
  if (whole.size() <= kMaxPinName && clean == label) return whole;
  // Shortened (or cleaned): the hash of the label as given keeps names apart.
  if (prefix.size() + 9 >= kMaxPinName) throw kpath::Error("pin prefix '" + prefix + "' is too long");
  char hash[17];
  std::snprintf(hash, sizeof hash, "%08llx", static_cast<unsigned long long>(fnv1a(label) & 0xffffffffull));
  size_t room = kMaxPinName - prefix.size() - 9;  // "-" and 8 hex digits
  return prefix + clean.substr(0, room) + "-" + hash;
}

std::string PinMarker::text() const {
  return std::string(kMarkerHeader) + "\npid " + std::to_string(owner.pid) + "\nstart " +
         std::to_string(owner.start_time) + "\nns " + std::to_string(ns_inode) + "\nlabel " + label + "\n";
}

std::optional<PinMarker> PinMarker::parse(const std::string& name, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kMarkerHeader) return std::nullopt;
  PinMarker m;
  m.name = name;
  int seen = 0;
  try {
    while (std::getline(in, line)) {
      auto space = line.find(' ');
      if (space == std::string::npos) return std::nullopt;
      std::string key = line.substr(0, space), value = line.substr(space + 1);
      if (key == "pid") {
        m.owner.pid = std::stoi(value);
        seen |= 1;
      } else if (key == "start") {
        m.owner.start_time = std::stoull(value);
        seen |= 2;
      } else if (key == "ns") {
        m.ns_inode = std::stoul(value);
        seen |= 4;
      } else if (key == "label") {
        m.label = value;
        seen |= 8;
      }
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (seen != 15 || m.owner.pid <= 0) return std::nullopt;
  return m;
}

void pin_with_marker(const Namespace& ns, const std::string& name, const std::string& label, const PinDirs& dirs) {
  if (dirs.keeper) return dirs.keeper->hold(ns, name, label);
  std::error_code ec;
  std::filesystem::create_directories(dirs.markers, ec);
  if (ec) throw kpath::Error("create " + dirs.markers + ": " + ec.message());
  const std::string marker = dirs.markers + "/" + name;
  // The marker first: a cleanup running now sees a live owner, never an
  // unexplained pin.
  write_marker(marker, PinMarker{name, ProcessId::self(), ns.id(), label}.text());
  try {
    ns.pin(dirs.pins + "/" + name);
  } catch (...) {
    ::unlink(marker.c_str());
    throw;
  }
}

std::vector<PinMarker> read_markers(const PinDirs& dirs) {
  std::vector<PinMarker> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dirs.markers, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    auto text = kpath::read_file_if_present(entry.path());
    if (!text) continue;
    if (auto m = PinMarker::parse(entry.path().filename().string(), *text)) out.push_back(std::move(*m));
  }
  return out;
}

bool pin_matches(const PinMarker& marker, const PinDirs& dirs) {
  // A bind-mounted namespace shows the namespace's own inode (nsfs).
  struct stat st {};
  return ::stat((dirs.pins + "/" + marker.name).c_str(), &st) == 0 && st.st_ino == marker.ns_inode;
}

void remove_marker(const std::string& name, const PinDirs& dirs) {
  const std::string path = dirs.markers + "/" + name;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) kpath::throw_errno("remove pin marker " + path);
}

}  // namespace netns
