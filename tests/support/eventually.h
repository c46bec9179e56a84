// Waiting in tests for what happens in its own time (a process exits, the
// kernel frees a namespace) without a fixed sleep.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace kpath_test {

// Whether `condition` holds within `within`: tried every `step`, and once
// more at the end so a slow machine's last chance counts.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds within = std::chrono::seconds(3),
                       std::chrono::milliseconds step = std::chrono::milliseconds(10)) {
  for (auto end = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < end;
       std::this_thread::sleep_for(step))
    if (condition()) return true;
  return condition();
}

}  // namespace kpath_test
