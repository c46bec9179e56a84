// The behaviour catalogue: what kube-proxy promises for NodePort Services and
// their neighbours, one entry per behaviour the bundled cases cover. This list
// is the one source: the behaviour table's rows come from it, and
// docs/behaviours-catalogue.md holds its table (a test checks they agree).
#pragma once

#include <span>
#include <string>

namespace harness {

struct Behaviour {
  const char* id;       // "B1"; a case names it with `behaviour: B1`
  const char* title;    // a few words, for the table's rows
  const char* flow;     // the traffic
  const char* promise;  // what the kernel must show
};

std::span<const Behaviour> catalogue();

// The catalogue as the Markdown table in docs/behaviours-catalogue.md.
std::string catalogue_markdown();

}  // namespace harness
