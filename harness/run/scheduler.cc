#include "harness/run/scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

namespace harness {

std::vector<Task> plan(const std::vector<Case>& cases, const RunOptions& options) {
  std::vector<Task> tasks;
  for (const auto& c : cases)
    for (const auto& g : generators_for(c, options)) tasks.push_back({&c, g});
  return tasks;
}

namespace {

CaseRun interrupted_run(const Task& task) {
  CaseRun run = new_run(*task.c, task.generator.name(), task.generator.mode);
  run.status = Status::Skip;
  run.error = "interrupted";
  return run;
}

}  // namespace

std::vector<CaseRun> run_all(const std::vector<Task>& tasks, const RunOptions& options, int jobs,
                             const std::function<void(const CaseRun&, size_t, size_t)>& done) {
  std::vector<std::optional<CaseRun>> runs(tasks.size());
  std::mutex mu;
  std::atomic<size_t> next{0};
  size_t finished = 0;
  auto stopped = [&] { return options.stop && options.stop->load(); };
  auto worker = [&] {
    for (size_t i; !stopped() && (i = next++) < tasks.size();) {
      RunOptions task_options = options;
      task_options.run_id = fmt::format("{}-{}", options.run_id, i + 1);  // pinned names stay unique per run
      CaseRun r = run_case(*tasks[i].c, tasks[i].generator, task_options);
      std::lock_guard lock(mu);
      done(r, ++finished, tasks.size());
      runs[i] = std::move(r);
    }
  };
  std::vector<std::thread> pool;
  for (int j = 0; j < std::min<int>(jobs, static_cast<int>(tasks.size())); ++j) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  std::vector<CaseRun> out;
  for (size_t i = 0; i < tasks.size(); ++i) out.push_back(runs[i] ? std::move(*runs[i]) : interrupted_run(tasks[i]));
  return out;
}

}  // namespace harness
