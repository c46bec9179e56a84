// The parts of an HTTP request target the API server reads: path segments and
// the query string (decoded as Go's net/url does), and the base64url the
// continue token is written in.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness::apiserver {

// "/api/v1/namespaces/a/services?x=1" -> {"api", "v1", "namespaces", "a", "services"}.
std::vector<std::string> path_segments(std::string_view target);
// The query string as key -> value (the last one when repeated); '+' is a space.
std::map<std::string, std::string> parse_query(std::string_view target);
std::string percent_decode(std::string_view s);

std::string query_value(const std::map<std::string, std::string>& q, const std::string& key);
// nullopt when absent; throws kpath::Error when not an integer or a Go boolean
// ("1", "t", "true", "True", "TRUE", and the false ones).
std::optional<int64_t> query_int(const std::map<std::string, std::string>& q, const std::string& key);
std::optional<bool> query_bool(const std::map<std::string, std::string>& q, const std::string& key);

std::string base64url_encode(std::string_view bytes);  // no padding, as Go's base64.RawURLEncoding
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace harness::apiserver
