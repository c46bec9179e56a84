#include "harness/report/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace harness {

namespace {

constexpr const char* kClearLine = "\r\033[K";

std::string thousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

std::string progress_status(size_t done, size_t total, uint64_t probes, std::chrono::duration<double> elapsed) {
  double s = elapsed.count();
  uint64_t rate = s > 0 ? static_cast<uint64_t>(static_cast<double>(probes) / s) : 0;
  return fmt::format("{}/{} runs done, {} probes sent, {}/s, {:.1f} s", done, total, thousands(probes), thousands(rate),
                     s);
}

bool LiveProgress::is_terminal(std::FILE* out) {
  const char* term = std::getenv("TERM");
  return ::isatty(fileno(out)) && !(term && std::string(term) == "dumb");
}

LiveProgress::LiveProgress(std::FILE* out, size_t total, const std::atomic<uint64_t>& probes, bool live)
    : out_(out), total_(total), probes_(probes), live_(live) {
  if (live_) redraw_ = std::thread([this] { redraw_loop(); });
}

LiveProgress::~LiveProgress() {
  if (!live_) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  redraw_.join();
  std::fputs(kClearLine, out_);
  std::fflush(out_);
}

void LiveProgress::run_done(const std::string& line) {
  std::lock_guard lock(mu_);
  ++done_;
  std::fprintf(out_, "%s%s\n", live_ ? kClearLine : "", line.c_str());
  if (live_) draw();
  std::fflush(out_);
}

void LiveProgress::draw() {
  std::fprintf(out_, "%s%s", kClearLine,
               progress_status(done_, total_, probes_.load(), std::chrono::steady_clock::now() - start_).c_str());
  std::fflush(out_);
}

void LiveProgress::redraw_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    draw();
    wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
  }
}

}  // namespace harness
