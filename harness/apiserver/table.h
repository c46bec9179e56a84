// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for
// (Accept: application/json;as=Table;...), with the columns kubectl's own
// printers use for Services, EndpointSlices, Endpoints and Nodes.
#pragma once

#include <string>
#include <vector>

#include "harness/apiserver/api.h"

namespace harness::apiserver {

// objects: as served (v1beta1 slices already converted). Each row carries the
// object's metadata (PartialObjectMetadata), or the whole object when
// full_objects (includeObject=Object). now: RFC 3339, for the Age column.
Json table_of(const Resource& r, const std::vector<Json>& objects, const std::string& now, bool full_objects);

// kubectl's age format: "45s", "3m20s", "5h", "2d3h", ...
std::string human_duration(long long seconds);

}  // namespace harness::apiserver
