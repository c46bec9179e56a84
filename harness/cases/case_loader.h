// Reads case files (docs/case-format.md) into the model. Every problem with the
// input throws kpath::Error naming the file, 1-based line and column, what was
// expected and what was found; a Case is returned only when all of it is valid.
#pragma once

#include <string>
#include <vector>

#include "harness/model/model.h"

namespace harness {

Case load_case(const std::string& path);
// `file_name` is used in errors and to resolve a relative `generator: ruleset:PATH`.
Case parse_case(const std::string& text, const std::string& file_name);
// Case files (*.yaml, *.yml) among `paths`, folders searched recursively; sorted.
std::vector<std::string> find_case_files(const std::vector<std::string>& paths);

}  // namespace harness
