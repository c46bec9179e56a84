// An nft script's top-level commands, and how a large one goes in as several
// transactions. One `nft -f` is one kernel transaction, and binding a rule to
// an anonymous set or map (`numgen random mod 5 vmap { ... }`, one per
// kube-proxy Service port) walks that transaction's whole list of changes, so a
// first sync of N Services costs the kernel O(N^2) (docs/performance.md).
// Running the same commands in order as transactions of bounded size leaves
// the same ruleset in place at the end, at a linear cost.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace harness {

// A part of a script for one `nft -f`: its text, and for each of its lines
// the 1-based line of the whole script it was.
struct NftTransaction {
  std::string text;
  std::vector<int> lines;
  bool operator==(const NftTransaction&) const = default;
};

// Rule commands that hold an anonymous set or map (a brace in an `add`,
// `insert` or `replace rule`): what one transaction's kernel cost grows with.
size_t nft_anonymous_sets(const std::string& script);

// The script cut at command boundaries into transactions that each hold at
// most `per_transaction` anonymous-set rules, in the script's order; a
// transaction ends right after its last such rule's command (the one after it
// starts with the next command). nullopt when the script cannot be cut
// without changing its meaning: it uses variables or includes (`define`,
// `include`, `$name`), which do not carry from one `nft -f` to the next, a
// brace or quote is left open at its end, or per_transaction is 0.
std::optional<std::vector<NftTransaction>> split_nft_script(const std::string& script, size_t per_transaction);

}  // namespace harness
