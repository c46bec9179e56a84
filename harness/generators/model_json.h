// The model as JSON, the input of exec: generators. Versioned: "kpath.model/v1"
// (documented in docs/generators.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "harness/model/model.h"

namespace harness {

nlohmann::json model_json(const Cluster& cluster, const std::string& node);

}  // namespace harness
