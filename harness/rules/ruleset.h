// Rules as a proxy hands them to the kernel: the text and which installer takes it.
#pragma once

#include <string>
#include <vector>

namespace harness {

enum class RuleBackend {
  IptablesRestore,  // iptables-restore input (one or more *table ... COMMIT blocks)
  Nft,              // an nft -f script
  AppliedItself,    // a program that installed its rules on its own (nothing to install)
  None,             // no rules for this node
};

struct RuleSet {
  RuleBackend backend = RuleBackend::IptablesRestore;
  std::string text;
  // Where the text came from, so an installer error can point at the source:
  // origin names it (a file path, or the generator), origin_lines[i] is the
  // 1-based source line of text line i+1 (empty: the same numbering).
  std::string origin;
  std::vector<int> origin_lines;
  // IptablesRestore: ip6tables-restore input for the IPv6 family (kube-proxy
  // runs a proxier per family); empty: none. `text` may then be empty too
  // (an IPv6-only cluster). An nft script holds both families' tables in `text`.
  std::string text6;
  // Where text6 came from (an ip6tables-save dump's path); empty: `origin`.
  std::string origin6;
};

}  // namespace harness
