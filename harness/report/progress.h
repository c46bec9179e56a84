// The progress a person watches: a line per finished run and, on a terminal,
// a live status line under them (runs done, probes sent, rate) redrawn a few
// times a second. When the stream is no terminal (CI logs, pipes) only the
// per-run lines are written.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace harness {

// "12/48 runs done, 34,567 probes sent, 5,432/s, 6.4 s"
std::string progress_status(size_t done, size_t total, uint64_t probes, std::chrono::duration<double> elapsed);

class LiveProgress {
 public:
  // `probes` is read while the runs add to it; `live`: draw the status line
  // (pass is_terminal(out)).
  LiveProgress(std::FILE* out, size_t total, const std::atomic<uint64_t>& probes, bool live);
  ~LiveProgress();  // stops redrawing and clears the status line
  LiveProgress(const LiveProgress&) = delete;
  LiveProgress& operator=(const LiveProgress&) = delete;

  // Writes a finished run's line (above the status line, when live).
  void run_done(const std::string& line);

  static bool is_terminal(std::FILE* out);

 private:
  void draw();  // with mu_ held
  void redraw_loop();

  std::FILE* out_;
  size_t total_;
  const std::atomic<uint64_t>& probes_;
  bool live_;
  size_t done_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread redraw_;
};

}  // namespace harness
