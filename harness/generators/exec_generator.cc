#include "harness/generators/exec_generator.h"

#include <fmt/format.h>

#include <sstream>

#include "harness/generators/model_json.h"
#include "base/error.h"
#include "netns/process.h"

namespace harness {

RuleBackend classify_rules(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    return line[b] == '*' ? RuleBackend::IptablesRestore : RuleBackend::Nft;
  }
  return RuleBackend::AppliedItself;
}

Applied ExecGenerator::apply(const Cluster& cluster, const std::string& node, const netns::Namespace& node_ns,
                             RuleSet, const ApplyOptions& options) const {
  HeldNamespaces held = held_namespaces(cluster, options.namespaces);
  std::string input =
      model_json(cluster, node, RunContext{to_string(options.install.iptables), options.scratch, std::move(held.paths)})
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
    throw kpath::Error(fmt::format("generator '{}' {}: {}", command_,
                                   r.exit_code < 0 ? "crashed (killed by a signal)" : fmt::format("failed (exit {})", r.exit_code),
                                   err));
  return install_node_rules(node_ns, RuleSet{classify_rules(r.out), r.out, "output of '" + command_ + "'", {}}, options);
}

}  // namespace harness
