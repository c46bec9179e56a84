// kpath: kernel-path integration tests for Kubernetes Service rules.
//
//   kpath run [--generator SPEC]... [--junit FILE] [--json FILE] [--report FILE] [--list] [--shard I/N] ... [PATH...]
//   kpath diff --generator A --generator B [PATH...]
//   kpath mutate [--generator G] [-j N] [--max-mutants N] [--unobservable FILE] [PATH...]
//   kpath cleanup
//   kpath doctor
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>

#include "harness/cases/case_loader.h"
#include "harness/report/behaviour_table.h"
#include "harness/report/diff.h"
#include "harness/host/cleanup.h"
#include "harness/host/doctor.h"
#include "harness/run/budget.h"
#include "harness/run/needs.h"
#include "harness/report/explain_stats.h"
#include "harness/report/html_report.h"
#include "harness/report/json_report.h"
#include "harness/report/junit.h"
#include "harness/report/mutate_report.h"
#include "harness/report/progress.h"
#include "harness/report/report.h"
#include "harness/rules/installer.h"
#include "harness/run/mutate.h"
#include "harness/run/runner.h"
#include "harness/run/scheduler.h"
#include "base/error.h"
#include "base/text.h"
#include "netns/keeper.h"
#include "netns/privileges.h"
#include "netns/user_namespace.h"

std::string version() { return fmt::format("kpath {} (commit {})", KPATH_VERSION, KPATH_COMMIT); }

namespace {

std::atomic<bool> g_stop{false};  // the one thing a signal handler may touch
std::atomic<int> g_signal{0};

void on_signal(int sig) {
  // The second one: stop at once. Namespaces are fds and sandboxes watch a
  // pipe, so both go with the process; only --keep's pins stay.
  if (g_stop.load()) ::_exit(128 + sig);
  g_signal = sig;
  g_stop = true;
}

struct RunArgs {
  std::vector<std::string> paths;
  std::vector<std::string> generators;
  std::string junit;
  std::string json;
  std::string html;
  bool verbose = false;
  bool list = false;
  std::string focus, skip, shard;
  double expectation_timeout = 0;
  std::string iptables = "nft";
  bool keep = false;
  bool coverage = false;
  std::string behaviour_table;
  bool explain_stats = false;
  bool strict = false;
  int jobs = 0;
  bool allow_skip = false;
  bool rootless = false;
  std::string artifacts;
  double converge_timeout = 60;
};

// Rootless mode, when asked for or when kpath may not build namespaces in the
// host's: everything from here on happens inside a new user namespace in
// which the caller is root. Must come before any thread starts.
std::optional<int> enter_rootless(bool asked) {
  if (!asked && netns::has_net_admin()) return std::nullopt;
  try {
    std::string mapping = netns::enter_user_namespace();
    std::fprintf(stderr, "kpath: rootless: in a user namespace (%s)\n", mapping.c_str());
  } catch (const kpath::Error& e) {
    std::fprintf(stderr, "kpath: %s\n", e.what());
    return harness::kExitEnvironment;
  }
  return std::nullopt;
}

// Loads every case file before any topology is built; a file that does not
// load is reported and runs nothing. Warnings are printed first; under
// --strict a case with a warning does not load. Case text is escaped.
std::vector<harness::Case> load_all(const std::vector<std::string>& paths, bool strict, harness::Report& report) {
  std::vector<harness::Case> cases;
  for (const auto& file : harness::find_case_files(paths)) {
    try {
      harness::Case c = harness::load_case(file);
      for (const auto& w : c.warnings) std::fprintf(stderr, "%s\n", kpath::escape_unprintable(w.str(), false).c_str());
      if (strict) harness::reject_warnings(c);
      cases.push_back(std::move(c));
    } catch (const kpath::Error& e) {
      report.load_errors.push_back({file, e.what()});
      std::fprintf(stderr, "ERROR %s\n", kpath::escape_unprintable(e.what(), false).c_str());
    }
  }
  return cases;
}

harness::RunOptions run_options(const RunArgs& args) {
  harness::RunOptions options;
  // --generator paths are relative to where kpath was started.
  for (const auto& g : args.generators)
    options.generators.push_back(harness::GeneratorSpec::parse(g, std::filesystem::current_path().string()));
  options.install.iptables = harness::parse_iptables_variant(args.iptables);
  options.keep = args.keep;
  // Waiting for Enter needs someone to press it: only on a terminal (see keep_open).
  options.keep_serving = args.keep && ::isatty(STDIN_FILENO);
  options.coverage = args.coverage;
  options.run_id = std::to_string(getpid());
  options.stop = &g_stop;
  options.expectation_timeout = std::chrono::milliseconds(static_cast<int64_t>(args.expectation_timeout * 1000));
  options.artifacts_dir = args.artifacts;
  options.converge_timeout = std::chrono::milliseconds(static_cast<int64_t>(args.converge_timeout * 1000));
  return options;
}

// --focus, --skip, and the shard: --shard, else GoogleTest's variables.
harness::Selection selection(const RunArgs& args) {
  using harness::Selection, harness::Shard;
  Selection s;
  s.focus = Selection::pattern(args.focus, "--focus");
  s.skip = Selection::pattern(args.skip, "--skip");
  s.shard = !args.shard.empty() ? Shard::parse(args.shard) : Shard::from_environment().value_or(Shard{});
  return s;
}

// Every pin as `ip netns exec` takes it, with the node or pod it holds;
// rootless, with the nsenter command that enters it (its keeper holds it).
void print_pins(const harness::Report& report, const netns::Keeper* keeper) {
  if (keeper)
    std::printf("\nKept namespaces (held by %s pid %d; `kpath cleanup` ends it once kpath has exited):\n",
                netns::kKeeperName, keeper->pid());
  else
    std::printf(
        "\nPinned namespaces (`ip netns exec NAME ...`; `kpath cleanup` removes them once kpath has exited):\n");
  for (const auto& r : report.runs)
    for (const auto& p : r.pinned)
      std::printf("  %s -> %s (%s, %s)%s\n", p.name.c_str(), kpath::escape_unprintable(p.label, false).c_str(),
                  kpath::escape_unprintable(r.case_name, false).c_str(),
                  kpath::escape_unprintable(r.generator, false).c_str(),
                  keeper ? (": " + keeper->enter_command(p.name)).c_str() : "");
}

// Blocks until a line (or end of input) on stdin, or until a signal sets g_stop.
void wait_for_enter() {
  pollfd in{STDIN_FILENO, POLLIN, 0};
  while (!g_stop) {
    int n = ::poll(&in, 1, 200);
    if (n < 0 && errno != EINTR) return;
    if (n <= 0) continue;
    char c = 0;
    ssize_t got = ::read(STDIN_FILENO, &c, 1);
    if (got <= 0 || c == '\n') return;
  }
}

// --keep: with the echo servers still answering (a terminal), wait for the
// user; otherwise say plainly that nothing listens any more.
void keep_open(harness::Report& report, bool serving) {
  bool any = false;
  for (const auto& r : report.runs) any = any || !r.pinned.empty();
  if (!any) return;
  if (!serving || g_stop) {
    std::printf(
        "\nNothing listens in the pinned pods: their echo servers stopped with kpath%s, so a connect to a pod "
        "is refused (or times out) whatever the rules say. The rules, routes and conntrack stay for "
        "inspection.\n",
        serving ? "" : " (stdin is not a terminal, so kpath did not wait)");
    return;
  }
  std::printf(
      "\nThe pods' echo servers keep answering in the pinned namespaces. Press Enter (or Ctrl-C) to stop them "
      "and exit; the pins stay until `kpath cleanup`.\n");
  std::fflush(stdout);
  wait_for_enter();
  for (auto& r : report.runs) r.serving.reset();
  std::printf("Echo servers stopped: nothing listens in the pinned pods now.\n");
}

// What a run leaves besides the summary: coverage, pins, JUnit, behaviour table.
void write_reports(const RunArgs& args, const harness::Report& report, const netns::Keeper* keeper) {
  using namespace harness;
  if (args.coverage) std::printf("%s", coverage_report(report).c_str());
  if (args.keep) print_pins(report, keeper);
  if (!args.junit.empty()) write_file(args.junit, junit_xml(report));
  if (!args.json.empty()) write_file(args.json, json_report(report));
  if (!args.html.empty()) write_file(args.html, html_report(report));
  if (!args.behaviour_table.empty()) {
    std::string table = behaviour_table(report);
    write_file(args.behaviour_table,
               "# Behaviour by generator\n\nWritten by `kpath run --behaviour-table` from the run itself; "
               "the catalogue is in docs/behaviours-catalogue.md.\n\n" +
                   table);
    std::printf("\nBehaviour by generator (also in %s):\n%s", kpath::escape_unprintable(args.behaviour_table).c_str(),
                kpath::escape_unprintable(table).c_str());
  }
}

// Why nothing can run (no CAP_NET_ADMIN, nothing found or selected) as an exit status.
std::optional<int> cannot_run(const std::vector<std::string>& paths, const std::vector<harness::Case>& cases,
                              const std::vector<harness::Task>& tasks, const harness::Report& report) {
  using namespace harness;
  if (!netns::has_net_admin()) {
    std::fprintf(stderr,
                 "kpath: needs CAP_NET_ADMIN to build network namespaces; run it as root (sudo kpath run ...).\n");
    return kExitEnvironment;
  }
  if (cases.empty() && report.load_errors.empty()) {
    std::fprintf(stderr, "kpath: nothing to run: %s\n",
                 kpath::escape_unprintable(why_no_case_files(paths), false).c_str());
    return kExitNothingRan;
  }
  if (tasks.empty() && report.load_errors.empty()) {
    std::fprintf(stderr, "kpath: nothing to run: --focus, --skip or the shard selected no expectation\n");
    return kExitNothingRan;
  }
  return std::nullopt;
}

// Refuses (exit 3) when the runs at `jobs` at a time would overflow a host
// table (neighbours, conntrack) or kpath's open files; nothing is built then.
std::optional<int> over_budget(const std::vector<harness::Task>& tasks, const harness::RunOptions& options, int jobs) {
  auto why = harness::over_budget(tasks, options, jobs, harness::HostLimits::read());
  if (!why) return std::nullopt;
  std::fprintf(stderr, "kpath: not running: the selected runs %s\n", kpath::escape_unprintable(*why, false).c_str());
  return harness::kExitEnvironment;
}

int default_jobs(int jobs) {
  return jobs > 0 ? jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Probes the kernel's features once (a run needing a missing one is skipped),
// then runs the tasks with progress on stderr.
std::vector<harness::CaseRun> execute(const std::vector<harness::Task>& tasks, size_t files,
                                      harness::RunOptions options, int jobs) {
  using namespace harness;
  FeatureProbe features(options.install.iptables);
  options.features = &features.report();
  std::fprintf(stderr, "kpath: %zu case file(s), %zu run(s)\n", files, tasks.size());
  jobs = default_jobs(jobs);
  std::atomic<uint64_t> probes_sent{0};
  options.probes_sent = &probes_sent;
  LiveProgress progress(stderr, tasks.size(), probes_sent, LiveProgress::is_terminal(stderr));
  std::vector<CaseRun> runs = run_all(tasks, options, jobs, [&](const CaseRun& r, size_t finished, size_t total) {
    progress.run_done(progress_line(r, finished, total));
  });
  if (netns::in_user_namespace())
    for (auto& r : runs)
      if (r.status == Status::Error) {
        // A program's own iptables-restore refused as too long: the one sysctl that explains it.
        if (std::string hint = message_too_long_hint(r.error, host_wmem_default()); !hint.empty())
          r.error += "\n" + hint;
        r.error +=
            "\n(rootless: this ran in a user namespace, where loading kernel modules and writing the host's "
            "sysctls are refused; a program that needs them needs root: run kpath as root)";
      }
  return runs;
}

int run(const RunArgs& args) {
  using namespace harness;
  std::vector<std::string> paths = args.paths;
  if (paths.empty()) paths.push_back(KPATH_CASES_DIR);

  // A report that cannot be written is found now, not after the whole run.
  for (const auto& path : {args.junit, args.json, args.html, args.behaviour_table})
    if (!path.empty()) check_writable(path);
  Report report;
  std::vector<Case> cases = load_all(paths, args.strict, report);
  RunOptions options = run_options(args);
  std::vector<Task> tasks = plan(cases, options, selection(args));
  if (args.list) {
    std::printf("%s", kpath::escape_unprintable(list_plan(tasks)).c_str());
    return report.load_errors.empty() ? kExitPassed : kExitBadInput;
  }
  const uid_t caller = ::geteuid();
  const std::string pin_dir = netns::caller_pin_dir();  // the caller's, so before the user namespace
  if (auto status = enter_rootless(args.rootless)) return *status;
  // Rootless --keep: /run/netns is out of reach; a keeper holds the namespaces.
  std::optional<netns::Keeper> keeper;
  if (args.keep && netns::in_user_namespace()) {
    netns::make_private_pin_dir(pin_dir);
    keeper.emplace(netns::Keeper::start(pin_dir, caller));
    options.pins.keeper = &*keeper;
  }
  report.env = describe_environment(version());
  if (args.explain_stats) {
    std::printf("%s\n", kpath::escape_unprintable(explain_stats(distribution_assertions(cases, options))).c_str());
    std::fflush(stdout);  // before the progress lines on stderr
  }
  if (auto status = cannot_run(paths, cases, tasks, report)) return *status;
  if (auto status = over_budget(tasks, options, default_jobs(args.jobs))) return *status;
  report.runs = execute(tasks, cases.size() + report.load_errors.size(), options, args.jobs);
  report.interrupted = g_stop.load();
  // Interrupted too, the keeper keeps what it was handed so far, as root's pins stay.
  if (keeper) keeper->commit();
  report.env.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now() -
                                                                             report.env.started);
  std::printf("%s", summary(report, args.verbose).c_str());
  write_reports(args, report, keeper ? &*keeper : nullptr);
  if (report.interrupted) return 128 + (g_signal ? g_signal.load() : SIGINT);
  // A signal that ends the --keep wait is the ordinary way out: the status stays the run's.
  if (args.keep) keep_open(report, options.keep_serving);
  const char* ci = std::getenv("CI");
  return report.exit_status(/*skips_fail=*/ci && std::string(ci) == "true" && !args.allow_skip);
}

// The same cases through two generators; prints where the outcomes differ.
int diff(const RunArgs& args) {
  using namespace harness;
  if (args.generators.size() != 2) throw kpath::Error("kpath diff needs exactly two --generator options");
  std::vector<std::string> paths = args.paths;
  if (paths.empty()) paths.push_back(KPATH_CASES_DIR);
  Report report;
  std::vector<Case> cases = load_all(paths, args.strict, report);
  if (!report.load_errors.empty()) return kExitBadInput;
  RunOptions options = run_options(args);
  std::vector<Task> tasks = plan(cases, options, selection(args));
  if (auto status = enter_rootless(args.rootless)) return *status;
  if (auto status = cannot_run(paths, cases, tasks, report)) return *status;
  if (auto status = over_budget(tasks, options, default_jobs(args.jobs))) return *status;
  std::vector<CaseRun> runs = execute(tasks, cases.size(), options, args.jobs);
  if (g_stop) return 128 + (g_signal ? g_signal.load() : SIGINT);
  DiffResult d = diff_runs(runs, options.generators[0].name(), options.generators[1].name());
  std::printf("%s", kpath::escape_unprintable(format_diff(d)).c_str());
  return d.exit_status();
}

struct MutateArgs {
  RunArgs run;
  size_t max_mutants = 0;
  std::string unobservable = KPATH_UNOBSERVABLE;
};

// Mutation testing against the given generators: the runs of cases that pin
// another generator are left out (they do not test these).
std::vector<harness::Task> against_given(std::vector<harness::Task> tasks, const harness::RunOptions& options) {
  if (options.generators.empty()) return tasks;
  std::erase_if(tasks, [&](const harness::Task& t) {
    return std::none_of(options.generators.begin(), options.generators.end(),
                        [&](const harness::GeneratorSpec& g) { return g.name() == t.generator.name(); });
  });
  return tasks;
}

// Each rule of each run's rules taken out (or perturbed) in turn; the cases must notice.
int mutate(const MutateArgs& args) {
  using namespace harness;
  std::vector<std::string> paths = args.run.paths;
  if (paths.empty()) paths.push_back(KPATH_CASES_DIR);
  Report report;
  std::vector<Case> cases = load_all(paths, args.run.strict, report);
  if (!report.load_errors.empty()) return kExitBadInput;
  std::vector<Unobservable> declared = load_unobservable(args.unobservable);
  RunOptions options = run_options(args.run);
  std::vector<Task> tasks = against_given(plan(cases, options, selection(args.run)), options);
  if (args.run.list) {
    std::printf("%s", kpath::escape_unprintable(list_mutants(tasks, declared)).c_str());
    return kExitPassed;
  }
  if (auto status = enter_rootless(args.run.rootless)) return *status;
  if (auto status = cannot_run(paths, cases, tasks, report)) return *status;
  FeatureProbe features(options.install.iptables);
  options.features = &features.report();
  MutateOptions mutate_options{options,
                               args.run.jobs > 0 ? args.run.jobs
                                                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())),
                               args.max_mutants};
  MutationResult result;
  {
    MutantProgress progress(stderr, LiveProgress::is_terminal(stderr));
    result = harness::mutate(
        tasks, declared, mutate_options, [&](size_t total) { progress.started(total); },
        [&](const MutantResult& r, size_t finished, size_t total) { progress.done(r, finished, total); });
  }
  std::printf("%s", format_mutation(result, declared, args.run.verbose).c_str());
  if (g_stop) return 128 + (g_signal ? g_signal.load() : SIGINT);
  return mutation_exit_status(result);
}

// The environment, rootless readiness and the kernel features; exit 0 when
// the bundled cases have what they need. Without CAP_NET_ADMIN (or with
// --rootless) the features are tried inside a user namespace, as kpath run
// would run them.
int doctor(const std::string& iptables, bool rootless) {
  using namespace harness;
  std::vector<Case> cases;
  for (const auto& file : find_case_files({KPATH_CASES_DIR})) {
    try {
      cases.push_back(load_case(file));
    } catch (const kpath::Error& e) {
      std::fprintf(stderr, "kpath doctor: ignoring %s\n", e.what());
    }
  }
  std::vector<std::string> needed = features_needed_by(cases);
  const bool as_root = netns::has_net_admin();
  Fingerprint fp = fingerprint();
  RootlessReadiness readiness = rootless_readiness();
  std::string mode = "root, in the host's namespaces";
  if (rootless || !as_root) {
    try {
      mode = "rootless, in a user namespace (" + netns::enter_user_namespace() + ")";
    } catch (const kpath::Error& e) {
      std::printf("%s", format_doctor(fp, FeatureReport{}, needed).c_str());
      std::printf("  (not tried: %s)\n", e.what());
      std::printf("%s", format_rootless(readiness, as_root).c_str());
      return kExitEnvironment;
    }
  }
  FeatureReport report = probe_all_features(parse_iptables_variant(iptables));
  std::printf("%s", format_doctor(fp, report, needed).c_str());
  std::printf("  (tried as: %s)\n", mode.c_str());
  std::printf("%s", format_rootless(readiness, as_root).c_str());
  std::string missing;
  for (const auto& name : needed)
    if (!report.has(name)) missing += (missing.empty() ? "" : ", ") + name;
  if (!missing.empty()) {
    std::printf("The bundled cases need what is missing: %s.\n", missing.c_str());
    return 1;
  }
  std::printf("Every feature the bundled cases need is present.\n");
  return 0;
}

// The host's pins (they need the host's CAP_NET_ADMIN, so root's only), the
// caller's own rootless keepers (never another user's), stale scratch.
int cleanup() {
  harness::CleanupResult cleaned;
  if (netns::has_net_admin()) cleaned = harness::cleanup_pinned();
  harness::append(cleaned, harness::cleanup_kept(netns::caller_pin_dir(), ::geteuid()));
  cleaned.scratch_removed = harness::remove_stale_scratch();
  std::printf("%s", kpath::escape_unprintable(harness::format_cleanup(cleaned)).c_str());
  return 0;
}

}  // namespace

constexpr const char* kExitCodes =
    "Exit status of kpath run: 0 every expectation held; 1 an expectation failed; 2 bad input or usage\n"
    "(a case file, a generator spec, an option, a report path that cannot be written); 3 a generator,\n"
    "installer or environment error (an ERROR run, or no CAP_NET_ADMIN); 4 nothing ran (every run\n"
    "skipped, no case found, or under CI=true any skip without --allow-skip); 130/143 interrupted.";

// The first argument that is not an option must be a command: say so plainly
// rather than CLI11's "A subcommand is required".
std::optional<std::string> unknown_command(int argc, char** argv, const CLI::App& app) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.starts_with("-")) continue;
    for (const auto* sub : app.get_subcommands({}))
      if (sub->get_name() == arg) return std::nullopt;
    return arg;
  }
  return std::nullopt;
}

int main(int argc, char** argv) {
  CLI::App app{"kpath: kernel-path integration tests for Kubernetes Service rules"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version());
  app.footer(kExitCodes);

  RunArgs args;
  auto* run_cmd = app.add_subcommand("run", "run case files or folders (default: the bundled suite)");
  run_cmd->add_option("paths", args.paths, "case files or folders");
  run_cmd
      ->add_option("-g,--generator", args.generators,
                   "kube-iptables | kube-nftables | ruleset:PATH | exec:COMMAND | proxy:COMMAND, options as "
                   "KIND,mode=iptables,version=1.20.2:ARG (repeatable)")
      ->allow_extra_args(false);  // parsed (and checked) by GeneratorSpec::parse
  run_cmd->add_option("--junit", args.junit, "write JUnit XML to FILE");
  run_cmd->add_option("--json", args.json, "write every run and expectation as JSON (schema kpath.report/v1) to FILE");
  run_cmd->add_option("--report", args.html, "write a self-contained HTML report (charts per expectation) to FILE");
  run_cmd->add_flag("-v,--verbose", args.verbose, "PASS rows of the summary give the replies per backend");
  run_cmd->add_flag("--list", args.list,
                    "print the selected expectations, one line each (CASE<TAB>GENERATOR<TAB>EXPECTATION), and exit");
  run_cmd->add_option("--focus", args.focus, "run only the expectations whose --list line matches REGEX");
  run_cmd->add_option("--skip", args.skip, "leave out the expectations whose --list line matches REGEX");
  run_cmd->add_option("--shard", args.shard,
                      "run part I of N (0-based; runs round-robin); default: GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS");
  run_cmd
      ->add_option("--expectation-timeout", args.expectation_timeout,
                   "fail an expectation still probing after SECONDS (wall clock)")
      ->check(CLI::PositiveNumber);
  run_cmd->add_option("--iptables", args.iptables, "iptables variant for iptables-restore: nft or legacy")
      ->check(CLI::IsMember({"nft", "legacy"}));
  run_cmd->add_flag("--keep", args.keep,
                    "pin the namespaces under /run/netns for `ip netns exec` (rootless: a kpath-keeper process holds "
                    "them; kpath prints the nsenter command for each); on a terminal, keep the pods answering until "
                    "Enter");
  run_cmd->add_flag("--coverage", args.coverage, "report the generated rules that no probe hit");
  run_cmd->add_option("--behaviour-table", args.behaviour_table,
                      "write the behaviour-by-generator table (Markdown) to FILE");
  run_cmd->add_option("-j,--jobs", args.jobs, "runs in parallel (default: number of CPUs)")->check(CLI::Range(1, 1024));
  run_cmd->add_flag("--explain-stats", args.explain_stats,
                    "print the distribution assertions and the run's combined false-failure rate first");
  run_cmd->add_flag("--allow-skip", args.allow_skip,
                    "under CI=true, a skipped run (missing kernel feature) does not fail the run");
  run_cmd->add_option("--artifacts", args.artifacts, "keep each running proxy's log under DIR/CASE/GENERATOR/NODE.log");
  run_cmd
      ->add_option("--converge-timeout", args.converge_timeout,
                   "a proxy: generator whose rules have not settled after SECONDS is an ERROR (default 60)")
      ->check(CLI::PositiveNumber);
  run_cmd->add_flag("--strict", args.strict, "treat case-file warnings as errors: such a case does not run");
  run_cmd->add_flag("--rootless", args.rootless,
                    "run inside a new user namespace even as root (the default without CAP_NET_ADMIN)");
  run_cmd->footer(kExitCodes);

  RunArgs diff_args;
  auto* diff_cmd = app.add_subcommand(
      "diff", "run the cases through two generators and print where their outcomes differ (verdict, backends, source)");
  diff_cmd->add_option("paths", diff_args.paths, "case files or folders");
  diff_cmd->add_option("-g,--generator", diff_args.generators, "the two generators to compare (give it twice)")
      ->allow_extra_args(false);
  diff_cmd->add_option("--iptables", diff_args.iptables, "iptables variant for iptables-restore: nft or legacy")
      ->check(CLI::IsMember({"nft", "legacy"}));
  diff_cmd->add_option("--focus", diff_args.focus, "compare only the expectations whose --list line matches REGEX");
  diff_cmd->add_option("--skip", diff_args.skip, "leave out the expectations whose --list line matches REGEX");
  diff_cmd->add_flag("--rootless", diff_args.rootless, "run inside a new user namespace even as root");
  diff_cmd->add_option("-j,--jobs", diff_args.jobs, "runs in parallel (default: number of CPUs)")
      ->check(CLI::Range(1, 1024));
  diff_cmd->footer(
      "Exit status of kpath diff: 0 no undeclared difference; 1 a difference the cases' except: entries do not\n"
      "declare; 2 bad input or usage; 3 a run errored (the comparison is incomplete); 130/143 interrupted.");

  MutateArgs mutate_args;
  auto* mutate_cmd = app.add_subcommand(
      "mutate", "take each generated rule out (or perturb it) in turn and check that the cases notice");
  mutate_cmd->add_option("paths", mutate_args.run.paths, "case files or folders");
  mutate_cmd
      ->add_option("-g,--generator", mutate_args.run.generators,
                   "the generator whose rules are mutated (repeatable; default: each case's own)")
      ->allow_extra_args(false);
  mutate_cmd->add_option("--iptables", mutate_args.run.iptables, "iptables variant for iptables-restore: nft or legacy")
      ->check(CLI::IsMember({"nft", "legacy"}));
  mutate_cmd->add_option("--focus", mutate_args.run.focus,
                         "mutate only runs of the expectations whose --list line (of kpath run) matches REGEX");
  mutate_cmd->add_option("--skip", mutate_args.run.skip,
                         "leave out the expectations whose kpath run --list line matches REGEX");
  mutate_cmd->add_option("--max-mutants", mutate_args.max_mutants, "run only the first N mutants (development)")
      ->check(CLI::PositiveNumber);
  mutate_cmd->add_option("--unobservable", mutate_args.unobservable,
                         "the list of mutants no kernel-visible behaviour can reveal (default: the checked-in one)");
  mutate_cmd->add_flag("--list", mutate_args.run.list,
                       "print the mutants (CASE<TAB>GENERATOR<TAB>NODE<TAB>MUTANT, declared ones marked) and exit");
  mutate_cmd->add_flag("-v,--verbose", mutate_args.run.verbose,
                       "also list every killed mutant with the expectation that caught it");
  mutate_cmd->add_option("-j,--jobs", mutate_args.run.jobs, "mutants run in parallel (default: number of CPUs)")
      ->check(CLI::Range(1, 1024));
  mutate_cmd->footer(
      "Exit status of kpath mutate: 0 no mutant survived; 1 a mutant survived; 2 bad input or usage (a case file,\n"
      "the unobservable list, an option); 3 a run failed unmutated or a mutant's run errored (the count is\n"
      "incomplete), or no CAP_NET_ADMIN; 4 nothing to run; 130/143 interrupted.");

  auto* cleanup_cmd = app.add_subcommand(
      "cleanup",
      "remove the namespaces --keep pinned and the scratch directories of runs whose kpath has exited (never a running "
      "one's, never others')");
  std::string doctor_iptables = "nft";
  auto* doctor_cmd = app.add_subcommand("doctor", "print the environment and try the kernel features cases need");
  doctor_cmd->add_option("--iptables", doctor_iptables, "iptables variant to try: nft or legacy")
      ->check(CLI::IsMember({"nft", "legacy"}));
  bool doctor_rootless = false;
  doctor_cmd->add_flag("--rootless", doctor_rootless, "try the features inside a user namespace even as root");

  if (auto bad = unknown_command(argc, argv, app)) {
    std::fprintf(stderr,
                 "kpath: unknown command '%s' (commands: run, diff, mutate, doctor, cleanup; see kpath --help)\n",
                 bad->c_str());
    return harness::kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; usage errors are 2.
    app.exit(e);
    return e.get_exit_code() == 0 ? 0 : harness::kExitBadInput;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    if (*run_cmd) return run(args);
    if (*diff_cmd) return diff(diff_args);
    if (*mutate_cmd) return mutate(mutate_args);
    if (*doctor_cmd) return doctor(doctor_iptables, doctor_rootless);
    if (*cleanup_cmd) return cleanup();
  } catch (const kpath::Error& e) {
    std::fprintf(stderr, "kpath: %s\n", kpath::escape_unprintable(e.what(), false).c_str());
    return harness::kExitBadInput;
  }
  return 0;
}
