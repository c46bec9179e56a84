#include "harness/generators/exec_generator.h"

#include <fmt/format.h>

#include "harness/generators/model_json.h"
#include "base/error.h"
#include "base/strings.h"
#include "netns/process.h"

namespace harness {

RuleBackend classify_rules(const std::string& text) {
  for (const auto& line : kpath::split_lines(text)) {
    std::string_view l = kpath::trim(line);
    if (l.empty() || l[0] == '#') continue;
    return l[0] == '*' ? RuleBackend::IptablesRestore : RuleBackend::Nft;
  }
  return RuleBackend::AppliedItself;
}

Applied ExecGenerator::apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns, RuleSet,
                             const ApplyOptions& options) const {
  HeldNamespaces held = held_namespaces(cluster, options.namespaces);
  std::string input = model_json(cluster, node,
                                 RunContext{to_string(options.install.iptables), options.scratch,
                                            std::move(held.paths)})
                          .dump(2);
  netns::ProcessOptions run;
  run.workdir = base_;  // relative paths in the command are relative to the spec's base folder
  run.held = std::move(held.fds);
  run.input = std::move(input);
  run.timeout = options.install.timeout;
  run.stop = options.install.stop;
  auto r = netns::run_process(node_ns, {"sh", "-c", command_}, run);
  if (r.stopped) throw kpath::Error(fmt::format("generator '{}' interrupted", command_));
  const std::string err = r.err.empty() ? "(no message on stderr)" : r.err_tail();
  if (r.timed_out)
    throw kpath::Error(fmt::format("generator '{}' did not finish within {} ms (killed with everything it started): {}",
                                   command_, options.install.timeout.count(), err));
  if (r.exit_code != 0)
    throw kpath::Error(
        fmt::format("generator '{}' {}: {}", command_,
                    r.exit_code < 0 ? "crashed (killed by a signal)" : fmt::format("failed (exit {})", r.exit_code),
                    err));
  return install_node_rules(node_ns, RuleSet{classify_rules(r.out), r.out, "output of '" + command_ + "'", {}},
                            options);
}

}  // namespace harness
