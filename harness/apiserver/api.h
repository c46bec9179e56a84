// The Kubernetes API over the store, without sockets: one HTTP request in,
// a response or the start of a watch out. The server (apiserver.cc) does the
// I/O; everything a client can observe is decided here, so it is tested
// without a network.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "harness/apiserver/selector.h"
#include "harness/apiserver/store.h"

namespace harness::apiserver {

struct ApiOptions {
  std::string git_version = "v1.24.0";               // /version; the last release serving both EndpointSlice versions
  std::chrono::seconds default_watch_timeout{1800};  // the real server's --min-request-timeout
  size_t event_limit = 1000;                         // posted Events kept
  std::function<std::string()> now;                  // RFC 3339 UTC; default: the system clock
};

struct HttpRequest {
  std::string method;
  std::string target;  // path?query, as sent
  std::string accept;
  std::string content_type;
  std::string host;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// A served kind at one group/version.
struct Resource {
  std::string group;  // "" for the core group
  std::string version;
  std::string plural;
  std::string kind;
  bool namespaced = true;
  std::optional<Bucket> bucket;  // nullopt: Events (create and patch only)
  std::vector<std::string> short_names;

  std::string group_version() const { return group.empty() ? version : group + "/" + version; }
};

// Which objects one watch sends, and how.
struct WatchFilter {
  const Resource* resource = nullptr;
  std::string ns;  // "" : all namespaces
  LabelSelector labels;
  FieldSelector fields;
  bool table = false;          // the client asked for server-side Table output (kubectl get)
  bool table_objects = false;  // includeObject=Object: rows carry whole objects, not their metadata
  uint64_t after = 0;          // changes at or before this resourceVersion were sent already
};

// What a watch request starts: the lines to send first, then live events
// through WatchFilter until the timeout.
struct WatchStart {
  WatchFilter filter;
  std::vector<std::string> initial;
  bool ended = false;  // the initial lines end it (an ERROR event)
  bool bookmarks = false;
  std::chrono::seconds timeout{0};
};

// An Event a client POSTed (kube-proxy: "Starting kube-proxy.").
struct PostedEvent {
  std::string ns;
  std::string content_type;
  Json object;          // null when the body was not JSON (protobuf)
  std::string summary;  // reason: message; for protobuf, the body's readable strings
};

class Api {
 public:
  Api(Store& store, ApiOptions options);

  std::variant<HttpResponse, WatchStart> handle(const HttpRequest& request);

  // The line (one JSON object and "\n") a watch sends for a change; nullopt
  // when the change is none of its business.
  std::optional<std::string> watch_line(const WatchFilter& filter, const Event& event) const;
  // A BOOKMARK at the store's current resourceVersion.
  std::string bookmark_line(const WatchFilter& filter, bool initial_events_end = false) const;

  const std::deque<PostedEvent>& events() const { return events_; }
  std::string now() const { return options_.now(); }
  static const std::vector<Resource>& resources();

 private:
  std::variant<HttpResponse, WatchStart> handle_resource(const HttpRequest& request);
  HttpResponse list(const WatchFilter& filter, const std::map<std::string, std::string>& query) const;
  HttpResponse list_response(const WatchFilter& filter, const Json& meta, const std::vector<Json>& items) const;
  HttpResponse get(const WatchFilter& filter, const std::string& name) const;
  WatchStart watch(WatchFilter filter, const std::map<std::string, std::string>& query) const;
  HttpResponse create_event(const Resource& r, const std::string& ns, const HttpRequest& request);
  HttpResponse patch_event(const std::string& ns, const std::string& name, const HttpRequest& request);
  Json render(const WatchFilter& filter, const Json& object) const;
  bool selected(const WatchFilter& filter, const Json& object) const;

  Store& store_;
  ApiOptions options_;
  std::deque<PostedEvent> events_;
  uint64_t event_serial_ = 0;
};

}  // namespace harness::apiserver
