#include "harness/apiserver/api.h"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "base/error.h"
#include "harness/apiserver/request.h"
#include "harness/apiserver/table.h"

namespace harness::apiserver {

namespace {

using Query = std::map<std::string, std::string>;

const std::vector<std::string> kSelectableFields = {"metadata.name", "metadata.namespace"};

HttpResponse json_response(int status, const Json& body) { return {status, "application/json", body.dump()}; }

HttpResponse status_response(int code, const std::string& reason, const std::string& message,
                             const Json& details = Json::object()) {
  return json_response(code, status_json(code, reason, message, details));
}

HttpResponse not_found() {
  return status_response(404, "NotFound", "the server could not find the requested resource");
}

HttpResponse method_not_allowed() {
  return status_response(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}

HttpResponse bad_request(const std::string& message) { return status_response(400, "BadRequest", message); }

std::string system_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What list and watch read from the query string, checked once.
struct Params {
  LabelSelector labels;
  FieldSelector fields;
  std::optional<int64_t> limit;
  std::string continue_token;
  std::string rv;
  std::string rv_match;
  std::optional<int64_t> timeout;
  bool bookmarks = false;
  std::optional<bool> send_initial_events;
  bool watch = false;
};

std::variant<Params, HttpResponse> parse_params(const Query& q) {
  Params p;
  try {
    p.labels = LabelSelector::parse(query_value(q, "labelSelector"));
    p.fields = FieldSelector::parse(query_value(q, "fieldSelector"), kSelectableFields);
    p.limit = query_int(q, "limit");
    p.timeout = query_int(q, "timeoutSeconds");
    p.watch = query_bool(q, "watch").value_or(false);
    p.bookmarks = query_bool(q, "allowWatchBookmarks").value_or(false);
    p.send_initial_events = query_bool(q, "sendInitialEvents");
  } catch (const kpath::Error& e) {
    return bad_request(e.what());
  }
  p.continue_token = query_value(q, "continue");
  p.rv = query_value(q, "resourceVersion");
  p.rv_match = query_value(q, "resourceVersionMatch");
  if (p.limit && *p.limit <= 0) p.limit.reset();
  return p;
}

std::optional<uint64_t> parse_rv(const std::string& s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The continue token: the snapshot's resourceVersion and the last key sent.
struct ContinueToken {
  uint64_t rv = 0;
  ObjectKey after;
};

std::string encode_continue(const ContinueToken& t) {
  return base64url_encode(Json{{"rv", t.rv}, {"ns", t.after.first}, {"name", t.after.second}}.dump());
}

std::optional<ContinueToken> decode_continue(const std::string& s) {
  auto text = base64url_decode(s);
  if (!text) return std::nullopt;
  Json j = Json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("rv") || !j["rv"].is_number_unsigned() || !j.value("ns", Json()).is_string() ||
      !j.value("name", Json()).is_string())
    return std::nullopt;
  return ContinueToken{j["rv"].get<uint64_t>(), {j["ns"].get<std::string>(), j["name"].get<std::string>()}};
}

// The objects a list reads and the resourceVersion it reports, or the error.
struct Snapshot {
  Objects objects;
  uint64_t rv = 0;
  bool paged = true;  // false: resourceVersion=0 is served whole, as the watch cache does
};

std::variant<Snapshot, HttpResponse> exact_snapshot(const Store& store, Bucket b, uint64_t rv, bool from_continue) {
  auto objects = store.at(b, rv);
  if (objects) return Snapshot{std::move(*objects), rv, true};
  if (from_continue)
    return status_response(410, "Expired",
                           "The provided continue parameter is too old to display a consistent list result. "
                           "You can start a new list without the continue parameter.");
  return status_response(410, "Expired", "The resourceVersion for the provided list is too old.");
}

// resourceVersion and resourceVersionMatch as the API concepts document them:
// unset is the most recent, "0" any (here: the most recent, not paged), N with
// Exact (or with limit and no match) the state at N, N otherwise not older than N.
std::variant<Snapshot, HttpResponse> snapshot_for(const Store& store, Bucket b, const Params& p,
                                                  const std::optional<ContinueToken>& token) {
  if (token) return exact_snapshot(store, b, token->rv, true);
  if (p.rv.empty()) return Snapshot{store.current(b), store.resource_version(), true};
  auto rv = parse_rv(p.rv);
  if (!rv) return bad_request("invalid resource version \"" + p.rv + "\"");
  if (*rv > store.resource_version())
    return status_response(504, "Timeout",
                           "Too large resource version: " + p.rv +
                               ", current: " + std::to_string(store.resource_version()));
  bool exact = p.rv_match == "Exact" || (p.rv_match.empty() && p.limit && *rv != 0);
  if (exact) return exact_snapshot(store, b, *rv, false);
  return Snapshot{store.current(b), store.resource_version(), *rv != 0};
}

std::string watch_line_of(const std::string& type, const Json& object) {
  return Json{{"type", type}, {"object", object}}.dump() + "\n";
}

Json discovery_resource(const Resource& r) {
  Json verbs = r.bucket ? Json{"get", "list", "watch"} : Json{"create", "patch"};
  return {{"name", r.plural}, {"singularName", ""}, {"namespaced", r.namespaced},
          {"kind", r.kind},   {"verbs", verbs},     {"shortNames", r.short_names}};
}

Json resource_list(const std::string& group, const std::string& version) {
  Json resources = Json::array();
  for (const auto& r : Api::resources())
    if (r.group == group && r.version == version) resources.push_back(discovery_resource(r));
  std::string gv = group.empty() ? version : group + "/" + version;
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", gv}, {"resources", resources}};
}

// The named groups, each with its versions in preference order.
std::vector<std::pair<std::string, std::vector<std::string>>> groups() {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& r : Api::resources()) {
    if (r.group.empty()) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& g) { return g.first == r.group; });
    if (it == out.end()) it = out.insert(out.end(), {r.group, {}});
    if (std::find(it->second.begin(), it->second.end(), r.version) == it->second.end()) it->second.push_back(r.version);
  }
  return out;
}

Json group_json(const std::string& name, const std::vector<std::string>& versions) {
  Json vs = Json::array();
  for (const auto& v : versions) vs.push_back({{"groupVersion", name + "/" + v}, {"version", v}});
  return {{"name", name}, {"versions", vs}, {"preferredVersion", vs.front()}};
}

Json version_json(const std::string& git_version) {
  // "v1.24.0" -> major "1", minor "24".
  auto dot1 = git_version.find('.');
  auto dot2 = git_version.find('.', dot1 + 1);
  std::string major = git_version.substr(1, dot1 - 1), minor = git_version.substr(dot1 + 1, dot2 - dot1 - 1);
  return {{"major", major},       {"minor", minor},          {"gitVersion", git_version},
          {"gitCommit", "kpath"}, {"gitTreeState", "clean"}, {"buildDate", "1970-01-01T00:00:00Z"},
          {"goVersion", "none"},  {"compiler", "kpath"},     {"platform", "linux/amd64"}};
}

std::optional<HttpResponse> discovery(const std::vector<std::string>& seg, const HttpRequest& request,
                                      const ApiOptions& options) {
  if (seg == std::vector<std::string>{"api"})
    return json_response(200, {{"kind", "APIVersions"},
                               {"versions", {"v1"}},
                               {"serverAddressByClientCIDRs",
                                {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", request.host}}}}});
  if (seg == std::vector<std::string>{"api", "v1"}) return json_response(200, resource_list("", "v1"));
  if (seg == std::vector<std::string>{"version"}) return json_response(200, version_json(options.git_version));
  if (seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "livez" || seg[0] == "readyz"))
    return HttpResponse{200, "text/plain; charset=utf-8", "ok"};
  if (seg.empty() || seg[0] != "apis" || seg.size() > 3) return std::nullopt;
  auto all = groups();
  if (seg.size() == 1) {
    Json list = Json::array();
    for (const auto& [name, versions] : all) list.push_back(group_json(name, versions));
    return json_response(200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", list}});
  }
  auto g = std::find_if(all.begin(), all.end(), [&](const auto& x) { return x.first == seg[1]; });
  if (g == all.end()) return std::nullopt;
  if (seg.size() == 2) {
    Json j = group_json(g->first, g->second);
    j["kind"] = "APIGroup";
    j["apiVersion"] = "v1";
    return json_response(200, j);
  }
  if (std::find(g->second.begin(), g->second.end(), seg[2]) == g->second.end()) return std::nullopt;
  return json_response(200, resource_list(seg[1], seg[2]));
}

// A resource path: /api/v1/[watch/][namespaces/NS/]PLURAL[/NAME] or the same under /apis/G/V.
struct ResourcePath {
  const Resource* resource = nullptr;
  std::string ns;
  std::string name;
  bool legacy_watch = false;
};

std::optional<ResourcePath> parse_resource_path(std::vector<std::string> seg) {
  std::string group, version;
  if (seg.size() >= 2 && seg[0] == "api") {
    version = seg[1];
    seg.erase(seg.begin(), seg.begin() + 2);
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    group = seg[1];
    version = seg[2];
    seg.erase(seg.begin(), seg.begin() + 3);
  } else {
    return std::nullopt;
  }
  ResourcePath p;
  if (!seg.empty() && seg[0] == "watch") {
    p.legacy_watch = true;
    seg.erase(seg.begin());
  }
  if (seg.size() >= 3 && seg[0] == "namespaces") {
    p.ns = seg[1];
    seg.erase(seg.begin(), seg.begin() + 2);
  }
  if (seg.empty() || seg.size() > 2) return std::nullopt;
  for (const auto& r : Api::resources())
    if (r.group == group && r.version == version && r.plural == seg[0]) p.resource = &r;
  if (!p.resource || (!p.ns.empty() && !p.resource->namespaced)) return std::nullopt;
  if (seg.size() == 2) p.name = seg[1];
  return p;
}

// Printable runs in a protobuf body (field values of wire type 2 that are
// text), so a failure report can show what a protobuf client said.
void readable_strings(std::string_view b, std::vector<std::string>& out, int depth = 0);

std::optional<uint64_t> read_varint(std::string_view b, size_t& pos) {
  uint64_t v = 0;
  for (int shift = 0; pos < b.size() && shift < 64; shift += 7) {
    auto c = static_cast<unsigned char>(b[pos++]);
    v |= uint64_t(c & 0x7f) << shift;
    if (!(c & 0x80)) return v;
  }
  return std::nullopt;
}

bool printable(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 || c == '\n' || c == '\t';
  });
}

void readable_strings(std::string_view b, std::vector<std::string>& out, int depth) {
  size_t pos = 0;
  while (pos < b.size() && depth < 8) {
    auto key = read_varint(b, pos);
    if (!key) return;
    switch (*key & 7) {
      case 0:
        if (!read_varint(b, pos)) return;
        break;
      case 1: pos += 8; break;
      case 5: pos += 4; break;
      case 2: {
        auto len = read_varint(b, pos);
        if (!len || *len > b.size() - pos) return;
        std::string_view field = b.substr(pos, *len);
        pos += *len;
        if (printable(field)) out.emplace_back(field);
        else readable_strings(field, out, depth + 1);
        break;
      }
      default: return;
    }
  }
}

std::string protobuf_summary(const std::string& body) {
  std::string_view b = body;
  if (b.substr(0, 4) == std::string_view("k8s\0", 4)) b.remove_prefix(4);  // the Kubernetes envelope's magic
  std::vector<std::string> strings;
  readable_strings(b, strings);
  std::string out;
  for (const auto& s : strings) out += (out.empty() ? "" : " | ") + s;
  return out;
}

std::string base36(uint64_t n) {
  std::string s;
  do {
    s.insert(s.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36]);
    n /= 36;
  } while (n);
  return std::string(s.size() < 5 ? 5 - s.size() : 0, '0') + s;
}

}  // namespace

const std::vector<Resource>& Api::resources() {
  static const std::vector<Resource> kResources = {
      {"", "v1", "services", "Service", true, Bucket::Services, {"svc"}},
      {"", "v1", "endpoints", "Endpoints", true, Bucket::Endpoints, {"ep"}},
      {"", "v1", "nodes", "Node", false, Bucket::Nodes, {"no"}},
      {"", "v1", "events", "Event", true, std::nullopt, {"ev"}},
      {"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, Bucket::EndpointSlices, {}},
      {"discovery.k8s.io", "v1beta1", "endpointslices", "EndpointSlice", true, Bucket::EndpointSlices, {}},
      {"events.k8s.io", "v1", "events", "Event", true, std::nullopt, {"ev"}},
      {"events.k8s.io", "v1beta1", "events", "Event", true, std::nullopt, {"ev"}},
  };
  return kResources;
}

Api::Api(Store& store, ApiOptions options) : store_(store), options_(std::move(options)) {
  if (!options_.now) options_.now = system_now;
}

std::variant<HttpResponse, WatchStart> Api::handle(const HttpRequest& request) {
  auto seg = path_segments(request.target);
  if (auto d = discovery(seg, request, options_)) {
    if (request.method != "GET") return method_not_allowed();
    return *d;
  }
  return handle_resource(request);
}

std::variant<HttpResponse, WatchStart> Api::handle_resource(const HttpRequest& request) {
  auto path = parse_resource_path(path_segments(request.target));
  if (!path) return not_found();
  const Resource& r = *path->resource;
  if (!r.bucket) {
    if (request.method == "POST" && path->name.empty() && !path->ns.empty()) return create_event(r, path->ns, request);
    if (request.method == "PATCH" && !path->name.empty()) return patch_event(path->ns, path->name, request);
    return method_not_allowed();
  }
  if (request.method != "GET") return method_not_allowed();
  Query q = parse_query(request.target);
  auto parsed = parse_params(q);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) return *error;
  Params& p = std::get<Params>(parsed);
  bool table = request.accept.find("as=Table") != std::string::npos;
  WatchFilter filter{&r, path->ns, p.labels, p.fields, table, query_value(q, "includeObject") == "Object"};
  if (path->legacy_watch || p.watch) {
    if (!path->name.empty()) {
      auto by_name = FieldSelector::parse("metadata.name=" + path->name, kSelectableFields);
      filter.fields = by_name;  // a watch of one object: what the deprecated /watch/.../NAME path means
    }
    return watch(std::move(filter), q);
  }
  if (!path->name.empty()) return get(filter, path->name);
  return list(filter, q);
}

bool Api::selected(const WatchFilter& f, const Json& object) const {
  if (!f.ns.empty() && object["metadata"].value("namespace", "") != f.ns) return false;
  return f.labels.matches(labels_of(object)) && f.fields.matches(fields_of(object));
}

Json Api::render(const WatchFilter& f, const Json& object) const {
  Json j = f.resource->version == "v1beta1" && f.resource->plural == "endpointslices" ? slice_v1_to_v1beta1(object)
                                                                                      : object;
  return f.table ? table_of(*f.resource, {j}, options_.now(), f.table_objects) : j;
}

HttpResponse Api::list(const WatchFilter& f, const Query& q) const {
  auto parsed = parse_params(q);
  const Params& p = std::get<Params>(parsed);
  std::optional<ContinueToken> token;
  if (!p.continue_token.empty()) {
    if (!p.rv.empty()) return bad_request("specifying resource version is not allowed when using continue");
    token = decode_continue(p.continue_token);
    if (!token) return bad_request("continue key is not valid");
  }
  auto snap = snapshot_for(store_, *f.resource->bucket, p, token);
  if (auto* error = std::get_if<HttpResponse>(&snap)) return *error;
  const Snapshot& s = std::get<Snapshot>(snap);
  auto it = token ? s.objects.upper_bound(token->after) : s.objects.begin();
  int64_t limit = s.paged && p.limit ? *p.limit : 0;  // 0: all
  std::vector<Json> items;
  ObjectKey last;
  WatchFilter plain = f;  // items as objects; a Table wraps them all at the end
  plain.table = false;
  for (; it != s.objects.end() && (limit == 0 || int64_t(items.size()) < limit); ++it)
    if (selected(f, it->second)) {
      items.push_back(render(plain, it->second));
      last = it->first;
    }
  int64_t remaining = std::count_if(it, s.objects.end(), [&](const auto& kv) { return selected(f, kv.second); });
  Json meta = {{"resourceVersion", std::to_string(s.rv)}};
  if (remaining > 0) {
    meta["continue"] = encode_continue({s.rv, last});
    if (p.labels.empty() && p.fields.empty()) meta["remainingItemCount"] = remaining;
  }
  return list_response(f, meta, items);
}

HttpResponse Api::list_response(const WatchFilter& f, const Json& meta, const std::vector<Json>& items) const {
  if (f.table) {
    Json t = table_of(*f.resource, items, options_.now(), f.table_objects);
    t["metadata"] = meta;
    return json_response(200, t);
  }
  return json_response(200, {{"kind", f.resource->kind + "List"},
                             {"apiVersion", f.resource->group_version()},
                             {"metadata", meta},
                             {"items", items}});
}

HttpResponse Api::get(const WatchFilter& f, const std::string& name) const {
  const Resource& r = *f.resource;
  const Objects& objects = store_.current(*r.bucket);
  auto it = objects.find({r.namespaced ? f.ns : "", name});
  if (it == objects.end() || (r.namespaced && f.ns.empty())) {
    std::string what = r.group.empty() ? r.plural : r.plural + "." + r.group;
    Json details = {{"name", name}, {"kind", r.plural}};
    if (!r.group.empty()) details["group"] = r.group;
    return status_response(404, "NotFound", what + " \"" + name + "\" not found", details);
  }
  return json_response(200, render(f, it->second));
}

WatchStart Api::watch(WatchFilter filter, const Query& q) const {
  const Params p = std::get<Params>(parse_params(q));
  WatchStart w;
  w.bookmarks = p.bookmarks;
  w.timeout = p.timeout && *p.timeout > 0 ? std::chrono::seconds(*p.timeout) : options_.default_watch_timeout;
  auto rv = parse_rv(p.rv);
  bool initial = p.rv.empty() || p.rv == "0" || p.send_initial_events.value_or(false);
  if (initial) {
    for (const auto& [key, object] : store_.current(*filter.resource->bucket))
      if (selected(filter, object)) w.initial.push_back(watch_line_of("ADDED", render(filter, object)));
    if (p.send_initial_events.value_or(false) && p.bookmarks) w.initial.push_back(bookmark_line(filter, true));
  } else if (!rv) {
    w.initial.push_back(
        watch_line_of("ERROR", status_json(400, "BadRequest", "invalid resource version \"" + p.rv + "\"")));
    w.ended = true;
  } else if (auto events = store_.since(*rv)) {
    for (const auto& e : *events)
      if (auto line = watch_line(filter, e)) w.initial.push_back(*line);
    filter.after = *rv;
  } else {
    // As the real watch cache does: the request succeeds and the stream carries
    // the error, so informers relist.
    std::string message = "too old resource version: " + p.rv + " (" + std::to_string(store_.oldest()) + ")";
    w.initial.push_back(watch_line_of("ERROR", status_json(410, "Expired", message)));
    w.ended = true;
  }
  w.filter = std::move(filter);
  return w;
}

std::optional<std::string> Api::watch_line(const WatchFilter& f, const Event& e) const {
  if (e.bucket != *f.resource->bucket || e.rv <= f.after) return std::nullopt;
  bool now_in = selected(f, e.object);
  bool was_in = !e.previous.is_null() && selected(f, e.previous);
  switch (e.type) {
    case EventType::Added:
      if (!now_in) return std::nullopt;
      return watch_line_of("ADDED", render(f, e.object));
    case EventType::Deleted:
      if (!was_in) return std::nullopt;
      return watch_line_of("DELETED", render(f, e.object));
    case EventType::Modified:
      if (now_in) return watch_line_of(was_in ? "MODIFIED" : "ADDED", render(f, e.object));
      if (!was_in) return std::nullopt;
      // It left the selection: DELETED with its previous content at the change's RV.
      Json gone = e.previous;
      gone["metadata"]["resourceVersion"] = std::to_string(e.rv);
      return watch_line_of("DELETED", render(f, gone));
  }
  return std::nullopt;
}

std::string Api::bookmark_line(const WatchFilter& f, bool initial_events_end) const {
  Json meta = {{"resourceVersion", std::to_string(store_.resource_version())}, {"creationTimestamp", nullptr}};
  if (initial_events_end) meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
  Json object = {{"kind", f.resource->kind}, {"apiVersion", f.resource->group_version()}, {"metadata", meta}};
  return watch_line_of("BOOKMARK", object);
}

HttpResponse Api::create_event(const Resource& r, const std::string& ns, const HttpRequest& request) {
  PostedEvent posted{ns, request.content_type, nullptr, ""};
  HttpResponse response{201, request.content_type, request.body};  // a protobuf body goes back as it came
  if (request.content_type.find("json") != std::string::npos) {
    Json j = Json::parse(request.body, nullptr, false);
    if (!j.is_object()) return bad_request("the body of the request was not a JSON object");
    Json& m = j["metadata"];
    if (m.value("name", "").empty()) {
      if (m.value("generateName", "").empty())
        return status_response(422, "Invalid",
                               r.kind + " is invalid: metadata.name: Required value: name or generateName is required");
      m["name"] = m["generateName"].get<std::string>() + base36(++event_serial_);
    }
    m["namespace"] = ns;
    m["uid"] = uid_for("Event", {ns, m["name"].get<std::string>() + "#" + std::to_string(++event_serial_)});
    m["resourceVersion"] = std::to_string(store_.resource_version());
    m["creationTimestamp"] = options_.now();
    posted.summary = j.value("reason", "") + ": " + j.value(j.contains("note") ? "note" : "message", "");
    posted.object = j;
    response = json_response(201, j);
  } else {
    posted.summary = protobuf_summary(request.body);
  }
  events_.push_back(std::move(posted));
  while (events_.size() > options_.event_limit) events_.pop_front();
  return response;
}

HttpResponse Api::patch_event(const std::string& ns, const std::string& name, const HttpRequest& request) {
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    if (it->object.is_null() || it->ns != ns || it->object["metadata"].value("name", "") != name) continue;
    Json patch = Json::parse(request.body, nullptr, false);
    if (!patch.is_object()) return bad_request("the patch is not a JSON object");
    it->object.merge_patch(patch);  // an Event's series patch touches only scalar fields
    return json_response(200, it->object);
  }
  return status_response(404, "NotFound", "events \"" + name + "\" not found", {{"name", name}, {"kind", "events"}});
}

}  // namespace harness::apiserver
