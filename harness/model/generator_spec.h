// A generator as a case file or the command line names it: parsed, checked
// and resolved in one place, so the loader, the runner and the reports agree.
//
//   kube-iptables | kube-nftables          the built-ins
//   ruleset:PATH                           a dump taken from a node (iptables-save or nft),
//                                          installed on the case's first node
//   ruleset:V4PATH+V6PATH                  a dual-stack node's iptables-save and
//                                          ip6tables-save dumps, one per family
//   ruleset:FOLDER                         one dump per node: FOLDER/NODE.* for each node
//   ruleset:NODE=PATH,NODE=PATH            one dump per node, named
//   exec:COMMAND                           a program run on each node at every sync
//   proxy:COMMAND                          a proxy daemon started once per node, watching
//                                          kpath's API server (docs/proxies.md)
//   KIND,OPTION=VALUE,...:ARGUMENT         options before the colon, e.g.
//                                          exec,mode=iptables:./my-generator
//
// Options: mode=iptables|nftables|none says which kube-proxy mode the
// generator implements (built-ins imply theirs); `except:` verdicts and the
// kernel features a run needs follow from it. kube-iptables takes
// port-names=pre-1.19: chain names and comments of an unnamed Service port as
// kube-proxy wrote them before 1.19 ("ns/name:" with the colon). exec and
// proxy take version=X.Y[.Z]: the kube-proxy version whose features the
// program implements; a case that `requires:` a later feature is skipped.
//
// Relative paths resolve against one base: the folder of the case file the
// spec is written in, or the current directory for --generator. A ruleset
// path is resolved here; an exec command runs with the base as its directory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace harness {

// The kube-proxy mode a generator implements.
enum class ProxyMode { None, Iptables, Nftables };
std::string to_string(ProxyMode m);  // "none", "iptables", "nftables"

struct GeneratorSpec {
  enum class Kind { KubeIptables, KubeNftables, Ruleset, Exec, Proxy };

  Kind kind = Kind::KubeIptables;
  ProxyMode mode = ProxyMode::Iptables;
  std::string argument;              // ruleset: the resolved path; exec: the command
  std::string base;                  // the folder relative paths resolve against
  bool pre_1_19_port_names = false;  // kube-iptables,port-names=pre-1.19
  // ruleset:NODE=PATH,...: each node's dump (paths resolved); empty for the
  // other forms.
  std::vector<std::pair<std::string, std::string>> node_dumps;
  std::string version;  // exec/proxy,version=1.20.2; empty: implements every feature

  // Throws kpath::Error with a message that says what is accepted.
  static GeneratorSpec parse(std::string_view text, const std::string& base);

  // For reports and `except:` keys: the built-in's name, "ruleset:FILE" with
  // the dump's file name only, "exec:COMMAND" or "proxy:COMMAND".
  std::string name() const;
  // The spec that selects this generator again from `base` (paths resolved).
  std::string str() const;
  bool builtin() const { return kind == Kind::KubeIptables || kind == Kind::KubeNftables; }

  // For a ruleset: the dumps node `node` gets (one, or one per family joined
  // by '+'), none when it gets none (a single dump goes on `first_node`
  // only). In a folder NODE.ip6tables-save may sit beside the node's other
  // dump; throws kpath::Error when a folder holds any other two for the node.
  std::vector<std::string> dumps_for(const std::string& node, const std::string& first_node) const;
};

// The built-in generators, by name: the default set a case runs against.
std::vector<GeneratorSpec> builtin_generators();

// A short sentence of the accepted forms, for error messages.
std::string generator_forms();

}  // namespace harness
