// Checks on a case file's text before yaml-cpp builds a tree from it, so that
// hostile input fails with its own message instead of exhausting the stack or
// memory (docs/case-format.md, "Limits"). Internal to the loader.
#pragma once

#include <string>

#include "harness/cases/yaml_reader.h"

namespace harness::cases {

// At most kMaxCaseFileBytes.
void check_size(const Reader& r, const std::string& text);
// UTF-8 with only the characters YAML allows (no NUL, no control characters
// but tab, line feed and carriage return, no U+FFFE or U+FFFF).
void check_encoding(const Reader& r, const std::string& text);
// One document; maps and lists nested at most kMaxYamlNesting deep; at most
// kMaxYamlNodes nodes counting each alias as a copy of its anchor; no alias
// inside the node it names; aliases nested at most kMaxAliasDepth deep; only
// the tags known_tag() accepts. Throws YAML::Exception for a syntax error.
void check_shape(const Reader& r, const std::string& text);
// The same for one document of a manifest file, with its own node limit.
void check_shape(const Reader& r, const std::string& text, long max_nodes);

}  // namespace harness::cases
