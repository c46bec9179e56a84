#include "harness/run/scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "base/error.h"

namespace harness {

std::string expectation_name(const Expectation& e) {
  return e.name.empty() ? fmt::format("{} -> {} {}", e.from.str(), e.to.str(), to_string(e.protocol)) : e.name;
}

std::string list_line(const Task& task, const Expectation& e) {
  return fmt::format("{}\t{}\t{}", task.c->name, task.generator.name(), expectation_name(e));
}

namespace {

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Shard checked(std::optional<int> index, std::optional<int> count, const std::string& what) {
  if (!index || !count || *count < 1 || *index < 0 || *index >= *count)
    throw kpath::Error(fmt::format("bad shard {}: want I/N with 0 <= I < N", what));
  return {*index, *count};
}

}  // namespace

Shard Shard::parse(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return checked(std::nullopt, std::nullopt, "'" + text + "'");
  return checked(parse_int(std::string_view(text).substr(0, slash)),
                 parse_int(std::string_view(text).substr(slash + 1)), "'" + text + "'");
}

std::optional<Shard> Shard::from_environment() {
  const char* index = std::getenv("GTEST_SHARD_INDEX");
  const char* total = std::getenv("GTEST_TOTAL_SHARDS");
  if (!index || !total) return std::nullopt;
  Shard shard = checked(parse_int(index), parse_int(total),
                        fmt::format("GTEST_SHARD_INDEX={} GTEST_TOTAL_SHARDS={}", index, total));
  if (const char* status = std::getenv("GTEST_SHARD_STATUS_FILE")) std::ofstream{status};
  return shard;
}

std::optional<std::regex> Selection::pattern(const std::string& text, const char* flag) {
  if (text.empty()) return std::nullopt;
  try {
    return std::regex(text, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw kpath::Error(fmt::format("{} '{}': not a regular expression ({})", flag, text, e.what()));
  }
}

std::vector<Task> plan(const std::vector<Case>& cases, const RunOptions& options, const Selection& selection) {
  std::vector<Task> selected;
  for (const auto& c : cases)
    for (const auto& g : generators_for(c, options)) {
      Task task{&c, g, {}};
      for (const auto& e : c.expect) {
        std::string line = list_line(task, e);
        if (selection.focus && !std::regex_search(line, *selection.focus)) continue;
        if (selection.skip && std::regex_search(line, *selection.skip)) continue;
        task.expectations.push_back(&e);
      }
      if (!task.expectations.empty()) selected.push_back(std::move(task));
    }
  std::vector<Task> tasks;
  for (size_t i = 0; i < selected.size(); ++i)
    if (static_cast<int>(i % selection.shard.count) == selection.shard.index) tasks.push_back(std::move(selected[i]));
  return tasks;
}

namespace {

CaseRun interrupted_run(const Task& task) {
  CaseRun run = new_run(*task.c, task.generator.name(), task.generator.mode);
  run.planned = task.expectations;
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
      task_options.selected = tasks[i].expectations;
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
