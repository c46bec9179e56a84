// The API without sockets: what each request answers, paging, resource
// versions, watch starts and the lines a watch sends.
#include "harness/apiserver/api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/error.h"
#include "fixtures.h"
#include "harness/apiserver/request.h"
#include "harness/apiserver/table.h"

namespace {

using namespace harness::apiserver;
using kpath_test::small_cluster;
using testing::ElementsAre;
using testing::HasSubstr;

const char kKubeProxySelector[] = "%21service.kubernetes.io%2Fheadless%2C%21service.kubernetes.io%2Fservice-proxy-name";

ApiOptions fixed_clock() {
  ApiOptions o;
  o.now = [] { return std::string("2024-01-01T00:00:10Z"); };
  return o;
}

class ApiTest : public testing::Test {
 protected:
  void SetUp() override { store.replace(objects_of(cluster), "2024-01-01T00:00:00Z"); }

  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = "",
                       const std::string& content_type = "application/json",
                       const std::string& accept = "application/json") {
    auto r = api.handle({method, target, accept, content_type, "127.0.0.1:6443", body});
    EXPECT_TRUE(std::holds_alternative<HttpResponse>(r)) << target;
    return std::holds_alternative<HttpResponse>(r) ? std::get<HttpResponse>(r) : HttpResponse{};
  }
  Json get_json(const std::string& target, int want_status = 200) {
    HttpResponse r = request("GET", target);
    EXPECT_EQ(r.status, want_status) << target << ": " << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    return Json::parse(r.body);
  }
  WatchStart watch(const std::string& target) {
    auto r = api.handle({"GET", target, "application/json", "", "127.0.0.1:6443", ""});
    EXPECT_TRUE(std::holds_alternative<WatchStart>(r)) << target;
    return std::holds_alternative<WatchStart>(r) ? std::get<WatchStart>(r) : WatchStart{};
  }
  void update() { store.replace(objects_of(cluster), "2024-01-01T00:00:05Z"); }

  harness::Cluster cluster = small_cluster();
  Store store;
  Api api{store, fixed_clock()};
};

std::vector<std::string> names(const Json& list) {
  std::vector<std::string> out;
  for (const auto& i : list["items"]) out.push_back(i["metadata"]["name"]);
  return out;
}

std::vector<std::string> types_and_names(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    EXPECT_EQ(l.back(), '\n');
    Json j = Json::parse(l);
    out.push_back(j["type"].get<std::string>() + " " + j["object"]["metadata"].value("name", ""));
  }
  return out;
}

TEST_F(ApiTest, DiscoveryDocuments) {
  Json api_versions = get_json("/api");
  EXPECT_EQ(api_versions["kind"], "APIVersions");
  EXPECT_EQ(api_versions["versions"], Json({"v1"}));
  EXPECT_EQ(api_versions["serverAddressByClientCIDRs"][0]["serverAddress"], "127.0.0.1:6443");

  Json core = get_json("/api/v1");
  EXPECT_EQ(core["kind"], "APIResourceList");
  EXPECT_EQ(core["groupVersion"], "v1");
  std::vector<std::string> core_names;
  for (const auto& r : core["resources"]) core_names.push_back(r["name"]);
  EXPECT_THAT(core_names, ElementsAre("services", "endpoints", "nodes", "events"));
  EXPECT_EQ(core["resources"][0]["shortNames"], Json({"svc"}));
  EXPECT_EQ(core["resources"][0]["verbs"], Json({"get", "list", "watch"}));
  EXPECT_EQ(core["resources"][2]["namespaced"], false);
  EXPECT_EQ(core["resources"][3]["verbs"], Json({"create", "patch"}));

  Json groups = get_json("/apis");
  EXPECT_EQ(groups["kind"], "APIGroupList");
  ASSERT_EQ(groups["groups"].size(), 2u);
  EXPECT_EQ(groups["groups"][0]["name"], "discovery.k8s.io");
  EXPECT_EQ(groups["groups"][0]["preferredVersion"]["groupVersion"], "discovery.k8s.io/v1");
  EXPECT_EQ(groups["groups"][0]["versions"][1]["version"], "v1beta1");
  EXPECT_EQ(get_json("/apis/discovery.k8s.io")["kind"], "APIGroup");
  EXPECT_EQ(get_json("/apis/discovery.k8s.io/v1beta1")["resources"][0]["name"], "endpointslices");
  EXPECT_EQ(get_json("/apis/events.k8s.io/v1")["resources"][0]["kind"], "Event");

  Json version = get_json("/version");
  EXPECT_EQ(version["major"], "1");
  EXPECT_EQ(version["minor"], "24");
  EXPECT_EQ(version["gitVersion"], "v1.24.0");
  EXPECT_EQ(request("GET", "/healthz").body, "ok");
  EXPECT_EQ(get_json("/apis/apps/v1", 404)["reason"], "NotFound");
  EXPECT_EQ(get_json("/apis/discovery.k8s.io/v2", 404)["code"], 404);
}

TEST_F(ApiTest, ListsEveryServiceAtTheCurrentVersion) {
  Json list = get_json("/api/v1/services");
  EXPECT_EQ(list["kind"], "ServiceList");
  EXPECT_EQ(list["apiVersion"], "v1");
  EXPECT_EQ(list["metadata"]["resourceVersion"], "7");
  EXPECT_FALSE(list["metadata"].contains("continue"));
  EXPECT_THAT(names(list), ElementsAre("db", "web"));  // etcd order: namespace, then name
  EXPECT_EQ(list["items"][1]["spec"]["clusterIP"], "10.96.0.10");
  EXPECT_EQ(list["items"][1]["metadata"]["resourceVersion"], "4");
  EXPECT_THAT(names(get_json("/api/v1/namespaces/db/services")), ElementsAre("db"));
  EXPECT_THAT(names(get_json("/api/v1/nodes")), ElementsAre("node-1", "node-2"));
  EXPECT_THAT(names(get_json("/api/v1/endpoints")), ElementsAre("db", "web"));
  EXPECT_EQ(get_json("/apis/discovery.k8s.io/v1/endpointslices")["kind"], "EndpointSliceList");
}

// kube-proxy 1.20's list: v1beta1 slices, its selector, limit=500&resourceVersion=0.
TEST_F(ApiTest, KubeProxysSliceListSkipsHeadlessServices) {
  harness::EndpointSlice db;
  db.ns = "db";
  db.name = "db-xyz";
  db.service = "db";
  db.endpoints = {kpath_test::endpoint("10.32.1.5", "node-1", "db-0")};
  cluster.slices.push_back(db);
  update();
  Json list = get_json(std::string("/apis/discovery.k8s.io/v1beta1/endpointslices?labelSelector=") +
                       kKubeProxySelector + "&limit=500&resourceVersion=0");
  EXPECT_EQ(list["apiVersion"], "discovery.k8s.io/v1beta1");
  ASSERT_THAT(names(list), ElementsAre("web-abc12"));
  EXPECT_EQ(list["items"][0]["apiVersion"], "discovery.k8s.io/v1beta1");
  EXPECT_EQ(list["items"][0]["endpoints"][0]["topology"]["kubernetes.io/hostname"], "node-1");
  EXPECT_THAT(names(get_json("/apis/discovery.k8s.io/v1/endpointslices")), ElementsAre("db-xyz", "web-abc12"));
}

TEST_F(ApiTest, FieldAndLabelSelectors) {
  EXPECT_THAT(names(get_json("/api/v1/services?fieldSelector=metadata.name%3Dweb")), ElementsAre("web"));
  EXPECT_THAT(names(get_json("/api/v1/services?fieldSelector=metadata.namespace!%3Ddefault")), ElementsAre("db"));
  EXPECT_THAT(names(get_json("/api/v1/endpoints?labelSelector=service.kubernetes.io/headless")), ElementsAre("db"));
  EXPECT_THAT(names(get_json("/api/v1/nodes?labelSelector=kubernetes.io/hostname+in+(node-2,node-9)")),
              ElementsAre("node-2"));
  Json bad = get_json("/api/v1/services?labelSelector=app+in+(x", 400);
  EXPECT_EQ(bad["kind"], "Status");
  EXPECT_EQ(bad["reason"], "BadRequest");
  EXPECT_THAT(bad["message"].get<std::string>(), HasSubstr("unable to parse requirement"));
  EXPECT_EQ(get_json("/api/v1/services?fieldSelector=spec.type%3DNodePort", 400)["message"],
            "field label not supported: spec.type");
  EXPECT_EQ(get_json("/api/v1/services?limit=ten", 400)["reason"], "BadRequest");
}

TEST_F(ApiTest, PagesAreOneConsistentSnapshot) {
  Json first = get_json("/api/v1/services?limit=1");
  EXPECT_THAT(names(first), ElementsAre("db"));
  ASSERT_TRUE(first["metadata"].contains("continue"));
  EXPECT_EQ(first["metadata"]["remainingItemCount"], 1);
  std::string token = first["metadata"]["continue"];

  cluster.services.clear();  // both go away between the pages
  update();
  Json second = get_json("/api/v1/services?limit=1&continue=" + token);
  EXPECT_THAT(names(second), ElementsAre("web"));  // still the first page's state
  EXPECT_EQ(second["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"]);
  EXPECT_FALSE(second["metadata"].contains("continue"));
  EXPECT_TRUE(names(get_json("/api/v1/services?limit=1")).empty());  // a new list sees the change
}

TEST_F(ApiTest, PagingWithASelectorCountsOnlyMatches) {
  Json first = get_json("/api/v1/endpoints?limit=1&labelSelector=service.kubernetes.io/headless");
  EXPECT_THAT(names(first), ElementsAre("db"));
  EXPECT_FALSE(first["metadata"].contains("continue"));  // nothing else matches
  Json nodes = get_json("/api/v1/nodes?limit=1&labelSelector=kubernetes.io/os=linux");
  EXPECT_TRUE(nodes["metadata"].contains("continue"));
  EXPECT_FALSE(nodes["metadata"].contains("remainingItemCount"));  // not given with selectors
}

TEST_F(ApiTest, ResourceVersionZeroIsServedWhole) {
  Json list = get_json("/api/v1/services?limit=1&resourceVersion=0");
  EXPECT_THAT(names(list), ElementsAre("db", "web"));
  EXPECT_FALSE(list["metadata"].contains("continue"));
}

TEST_F(ApiTest, ExactAndTooLargeResourceVersions) {
  cluster.services.pop_back();  // db: deleted at 8, its Endpoints at 9
  update();
  EXPECT_THAT(names(get_json("/api/v1/services?resourceVersion=7&resourceVersionMatch=Exact")),
              ElementsAre("db", "web"));
  EXPECT_THAT(names(get_json("/api/v1/services?resourceVersion=7&limit=5")), ElementsAre("db", "web"));
  EXPECT_THAT(names(get_json("/api/v1/services?resourceVersion=7")), ElementsAre("web"));  // not older than 7
  Json too_large = get_json("/api/v1/services?resourceVersion=99", 504);
  EXPECT_EQ(too_large["reason"], "Timeout");
  EXPECT_THAT(too_large["message"].get<std::string>(), HasSubstr("Too large resource version"));
  EXPECT_EQ(get_json("/api/v1/services?resourceVersion=x", 400)["reason"], "BadRequest");
}

TEST_F(ApiTest, ContinueTokensThatCannotBeServed) {
  EXPECT_EQ(get_json("/api/v1/services?limit=1&continue=garbage!", 400)["message"], "continue key is not valid");
  std::string token = get_json("/api/v1/services?limit=1")["metadata"]["continue"];
  EXPECT_EQ(get_json("/api/v1/services?limit=1&resourceVersion=7&continue=" + token, 400)["reason"], "BadRequest");

  Store small(2);
  Api api2(small, fixed_clock());
  small.replace(objects_of(cluster), "t0");
  auto first = Json::parse(
      std::get<HttpResponse>(api2.handle({"GET", "/api/v1/services?limit=1", "", "", "", ""})).body);
  cluster.nodes.clear();  // four more changes push the list's version out of the history
  cluster.services.pop_back();
  small.replace(objects_of(cluster), "t1");
  auto second = std::get<HttpResponse>(
      api2.handle({"GET", "/api/v1/services?limit=1&continue=" + first["metadata"]["continue"].get<std::string>(), "",
                   "", "", ""}));
  EXPECT_EQ(second.status, 410);
  Json status = Json::parse(second.body);
  EXPECT_EQ(status["reason"], "Expired");
  EXPECT_EQ(status["code"], 410);
  EXPECT_EQ(get_json("/api/v1/services?resourceVersion=1&resourceVersionMatch=Exact")["metadata"]["resourceVersion"],
            "1");
}

TEST_F(ApiTest, GetOneObject) {
  Json web = get_json("/api/v1/namespaces/default/services/web");
  EXPECT_EQ(web["kind"], "Service");
  EXPECT_EQ(web["spec"]["ports"][0]["nodePort"], 30080);
  EXPECT_EQ(get_json("/api/v1/nodes/node-2")["status"]["addresses"][0]["address"], "192.168.100.2");
  EXPECT_EQ(get_json("/apis/discovery.k8s.io/v1beta1/namespaces/default/endpointslices/web-abc12")["apiVersion"],
            "discovery.k8s.io/v1beta1");
  Json missing = get_json("/api/v1/namespaces/default/services/nope", 404);
  EXPECT_EQ(missing["reason"], "NotFound");
  EXPECT_EQ(missing["message"], "services \"nope\" not found");
  EXPECT_EQ(missing["details"]["kind"], "services");
  EXPECT_EQ(get_json("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/x", 404)["message"],
            "endpointslices.discovery.k8s.io \"x\" not found");
}

TEST_F(ApiTest, UnservedPathsAndMethodsAnswerWithAStatus) {
  for (const char* path : {"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1", "/api/v1/pods",
                           "/api/v1/namespaces/default", "/api/v1/namespaces/default/services/web/status",
                           "/api/v1/namespaces/default/nodes", "/openapi/v2", "/"}) {
    Json s = get_json(path, 404);
    EXPECT_EQ(s["kind"], "Status") << path;
    EXPECT_EQ(s["reason"], "NotFound") << path;
  }
  for (auto [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/api/v1/namespaces/default/services"},
                                                        {"DELETE", "/api/v1/namespaces/default/services/web"},
                                                        {"PUT", "/api/v1/nodes/node-1"},
                                                        {"GET", "/api/v1/namespaces/default/events"},
                                                        {"POST", "/api"}}) {
    HttpResponse r = request(method, path, "{}");
    EXPECT_EQ(r.status, 405) << method << " " << path;
    EXPECT_EQ(Json::parse(r.body)["reason"], "MethodNotAllowed");
  }
}

TEST_F(ApiTest, PostedEventsAreCreatedAndKept) {
  std::string body =
      R"({"apiVersion":"v1","kind":"Event","metadata":{"generateName":"node-1."},)"
      R"("reason":"Starting","message":"Starting kube-proxy.","involvedObject":{"kind":"Node","name":"node-1"}})";
  HttpResponse r = request("POST", "/api/v1/namespaces/default/events", body);
  EXPECT_EQ(r.status, 201);
  Json echoed = Json::parse(r.body);
  EXPECT_THAT(echoed["metadata"]["name"].get<std::string>(), testing::StartsWith("node-1."));
  EXPECT_EQ(echoed["metadata"]["namespace"], "default");
  EXPECT_EQ(echoed["message"], "Starting kube-proxy.");
  ASSERT_EQ(api.events().size(), 1u);
  EXPECT_EQ(api.events()[0].summary, "Starting: Starting kube-proxy.");

  std::string name = echoed["metadata"]["name"];
  HttpResponse patched = request("PATCH", "/api/v1/namespaces/default/events/" + name, R"({"count":2})",
                                 "application/strategic-merge-patch+json");
  EXPECT_EQ(patched.status, 200);
  EXPECT_EQ(Json::parse(patched.body)["count"], 2);
  EXPECT_EQ(request("PATCH", "/api/v1/namespaces/default/events/other", "{}").status, 404);

  EXPECT_EQ(request("POST", "/apis/events.k8s.io/v1/namespaces/kube-system/events",
                    R"({"metadata":{"name":"e1"},"reason":"R","note":"n"})")
                .status,
            201);
  EXPECT_EQ(api.events().back().ns, "kube-system");
  EXPECT_EQ(api.events().back().summary, "R: n");
  EXPECT_EQ(request("POST", "/api/v1/namespaces/default/events", R"({"metadata":{}})").status, 422);
  EXPECT_EQ(request("POST", "/api/v1/namespaces/default/events", "not json").status, 400);
}

// kube-proxy posts Events as protobuf: the body goes back as it came, and its
// readable strings are kept for failure reports.
TEST_F(ApiTest, ProtobufEventIsEchoed) {
  auto field = [](char key, const std::string& value) { return std::string(1, key) + char(value.size()) + value; };
  std::string event = field('\x0a', "Starting") + field('\x12', "Starting kube-proxy.");
  std::string body = std::string("k8s\0", 4) + field('\x12', event);  // the envelope's raw field
  HttpResponse r = request("POST", "/api/v1/namespaces/default/events", body, "application/vnd.kubernetes.protobuf");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.content_type, "application/vnd.kubernetes.protobuf");
  ASSERT_EQ(api.events().size(), 1u);
  EXPECT_TRUE(api.events()[0].object.is_null());
  EXPECT_EQ(api.events()[0].summary, "Starting | Starting kube-proxy.");
}

TEST_F(ApiTest, WatchWithoutVersionStartsWithEveryObject) {
  WatchStart w = watch("/api/v1/services?watch=true");
  EXPECT_THAT(types_and_names(w.initial), ElementsAre("ADDED db", "ADDED web"));
  EXPECT_FALSE(w.ended);
  EXPECT_FALSE(w.bookmarks);
  EXPECT_EQ(w.timeout, std::chrono::seconds(1800));
  WatchStart any = watch(
      "/api/v1/namespaces/default/services?watch=1&resourceVersion=0&timeoutSeconds=30&allowWatchBookmarks=true");
  EXPECT_THAT(types_and_names(any.initial), ElementsAre("ADDED web"));
  EXPECT_EQ(any.timeout, std::chrono::seconds(30));
  EXPECT_TRUE(any.bookmarks);
  EXPECT_EQ(Json::parse(any.initial[0])["object"]["kind"], "Service");  // watch objects carry their kind
}

TEST_F(ApiTest, WatchFromAVersionReplaysLaterChanges) {
  EXPECT_TRUE(watch("/api/v1/services?watch=true&resourceVersion=7").initial.empty());
  WatchStart w = watch("/api/v1/endpoints?watch=true&resourceVersion=5");
  EXPECT_THAT(types_and_names(w.initial), ElementsAre("ADDED db", "ADDED web"));
  EXPECT_EQ(w.filter.after, 5u);
  EXPECT_EQ(Json::parse(w.initial[1])["object"]["metadata"]["resourceVersion"], "7");
  // The deprecated /watch/ path with a name: that one object.
  WatchStart one = watch("/api/v1/watch/namespaces/default/endpoints/web?resourceVersion=5");
  EXPECT_THAT(types_and_names(one.initial), ElementsAre("ADDED web"));
}

// As the real watch cache: the stream carries a 410 ERROR event, so informers relist.
TEST_F(ApiTest, WatchFromAnExpiredVersionSendsGone) {
  Store small(2);
  Api api2(small, fixed_clock());
  small.replace(objects_of(cluster), "t0");
  auto r = api2.handle({"GET", "/api/v1/services?watch=true&resourceVersion=3", "", "", "", ""});
  ASSERT_TRUE(std::holds_alternative<WatchStart>(r));
  WatchStart w = std::get<WatchStart>(r);
  EXPECT_TRUE(w.ended);
  ASSERT_EQ(w.initial.size(), 1u);
  Json e = Json::parse(w.initial[0]);
  EXPECT_EQ(e["type"], "ERROR");
  EXPECT_EQ(e["object"]["kind"], "Status");
  EXPECT_EQ(e["object"]["code"], 410);
  EXPECT_EQ(e["object"]["reason"], "Expired");
  EXPECT_THAT(e["object"]["message"].get<std::string>(), HasSubstr("too old resource version: 3"));
}

TEST_F(ApiTest, WatchWithSendInitialEventsEndsTheInitialListWithABookmark) {
  WatchStart w = watch(
      "/api/v1/services?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan");
  ASSERT_EQ(w.initial.size(), 3u);
  Json bookmark = Json::parse(w.initial[2]);
  EXPECT_EQ(bookmark["type"], "BOOKMARK");
  EXPECT_EQ(bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
  EXPECT_EQ(bookmark["object"]["metadata"]["resourceVersion"], "7");
}

TEST_F(ApiTest, WatchLinesFollowTheChanges) {
  WatchStart w = watch(
      std::string("/apis/discovery.k8s.io/v1beta1/endpointslices?watch=true&resourceVersion=7&labelSelector=") +
      kKubeProxySelector);
  cluster.slices[0].endpoints[1].ready = true;
  update();
  harness::EndpointSlice second = cluster.slices[0];
  second.name = "web-zzz99";
  cluster.slices.push_back(second);
  update();
  cluster.slices.erase(cluster.slices.begin());
  update();
  std::vector<std::string> lines;
  auto events = store.since(7);
  ASSERT_TRUE(events);
  for (const auto& e : *events)
    if (auto line = api.watch_line(w.filter, e)) lines.push_back(*line);
  EXPECT_THAT(types_and_names(lines), ElementsAre("MODIFIED web-abc12", "ADDED web-zzz99", "DELETED web-abc12"));
  Json modified = Json::parse(lines[0]);
  EXPECT_EQ(modified["object"]["apiVersion"], "discovery.k8s.io/v1beta1");
  EXPECT_EQ(modified["object"]["endpoints"][1]["conditions"]["ready"], true);
  EXPECT_EQ(modified["object"]["endpoints"][1]["topology"]["kubernetes.io/hostname"], "node-2");
  EXPECT_EQ(modified["object"]["metadata"]["resourceVersion"], "8");
}

// A change that moves an object out of (into) a watch's selection is a
// DELETED (ADDED) for that watch, as the real watch cache sends.
TEST_F(ApiTest, WatchSelectionEdges) {
  WatchFilter f{&Api::resources()[0], "", LabelSelector::parse("tier=front"), {}, false};
  Json before = store.current(Bucket::Services).at({"default", "web"});
  Json after = before;
  after["metadata"]["labels"] = {{"tier", "front"}};
  after["metadata"]["resourceVersion"] = "8";
  Event enters{8, Bucket::Services, EventType::Modified, {"default", "web"}, after, before};
  Event leaves{9, Bucket::Services, EventType::Modified, {"default", "web"}, before, after};
  Event outside{10, Bucket::Services, EventType::Modified, {"default", "web"}, before, before};
  Event inside{11, Bucket::Services, EventType::Modified, {"default", "web"}, after, after};
  EXPECT_EQ(Json::parse(*api.watch_line(f, enters))["type"], "ADDED");
  Json left = Json::parse(*api.watch_line(f, leaves));
  EXPECT_EQ(left["type"], "DELETED");
  EXPECT_EQ(left["object"]["metadata"]["labels"]["tier"], "front");  // its last content that matched
  EXPECT_EQ(left["object"]["metadata"]["resourceVersion"], "9");
  EXPECT_FALSE(api.watch_line(f, outside));
  EXPECT_EQ(Json::parse(*api.watch_line(f, inside))["type"], "MODIFIED");
  f.after = 10;
  EXPECT_FALSE(api.watch_line(f, enters));  // sent already
  WatchFilter other_ns{&Api::resources()[0], "kube-system", {}, {}, false};
  EXPECT_FALSE(api.watch_line(other_ns, inside));
  WatchFilter nodes{&Api::resources()[2], "", {}, {}, false};
  EXPECT_FALSE(api.watch_line(nodes, inside));
}

TEST_F(ApiTest, BookmarkCarriesTheCurrentVersion) {
  WatchFilter f{&Api::resources()[4], "", {}, {}, false};
  Json b = Json::parse(api.bookmark_line(f));
  EXPECT_EQ(b["type"], "BOOKMARK");
  EXPECT_EQ(b["object"]["kind"], "EndpointSlice");
  EXPECT_EQ(b["object"]["apiVersion"], "discovery.k8s.io/v1");
  EXPECT_EQ(b["object"]["metadata"]["resourceVersion"], "7");
  EXPECT_FALSE(b["object"]["metadata"].contains("annotations"));
}

// kubectl get asks for a Table and prints its cells.
TEST_F(ApiTest, ServerSideTable) {
  const std::string accept =
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
  HttpResponse r = request("GET", "/api/v1/namespaces/default/services?limit=500", "", "", accept);
  Json t = Json::parse(r.body);
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(t["metadata"]["resourceVersion"], "7");
  std::vector<std::string> columns;
  for (const auto& c : t["columnDefinitions"]) columns.push_back(c["name"]);
  EXPECT_THAT(columns, ElementsAre("Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"));
  ASSERT_EQ(t["rows"].size(), 1u);
  EXPECT_EQ(t["rows"][0]["cells"], Json({"web", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP", "10s", "app=web"}));
  EXPECT_EQ(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(t["rows"][0]["object"]["metadata"]["namespace"], "default");

  Json full = Json::parse(
      request("GET", "/apis/discovery.k8s.io/v1/endpointslices?includeObject=Object", "", "", accept).body);
  EXPECT_EQ(full["rows"][0]["cells"], Json({"web-abc12", "IPv4", "8080", "10.32.1.2,10.32.2.2,10.32.2.3", "10s"}));
  EXPECT_EQ(full["rows"][0]["object"]["kind"], "EndpointSlice");
  Json one = Json::parse(request("GET", "/api/v1/namespaces/default/endpoints/web", "", "", accept).body);
  EXPECT_EQ(one["rows"][0]["cells"], Json({"web", "10.32.1.2:8080", "10s"}));
  Json nodes = Json::parse(request("GET", "/api/v1/nodes", "", "", accept).body);
  EXPECT_EQ(nodes["rows"][1]["cells"][1], "Ready");
  EXPECT_EQ(nodes["rows"][1]["cells"][5], "192.168.100.2");
}

TEST(HumanDuration, AsKubectlPrintsAges) {
  EXPECT_EQ(human_duration(0), "0s");
  EXPECT_EQ(human_duration(-1), "0s");
  EXPECT_EQ(human_duration(-5), "<invalid>");
  EXPECT_EQ(human_duration(119), "119s");
  EXPECT_EQ(human_duration(200), "3m20s");
  EXPECT_EQ(human_duration(240), "4m");
  EXPECT_EQ(human_duration(3600), "60m");
  EXPECT_EQ(human_duration(4 * 3600 + 60), "4h1m");
  EXPECT_EQ(human_duration(20 * 3600), "20h");
  EXPECT_EQ(human_duration(3 * 86400 + 7200), "3d2h");
  EXPECT_EQ(human_duration(30 * 86400), "30d");
  EXPECT_EQ(human_duration(3 * 365 * 86400 + 86400), "3y1d");
  EXPECT_EQ(human_duration(10 * 365 * 86400), "10y");
}

TEST(Request, QueryDecodingAsGoDoes) {
  auto q = parse_query("/api/v1/services?labelSelector=%21a%2Cb+in+(x)&watch=True&x&limit=500&limit=5");
  EXPECT_EQ(q["labelSelector"], "!a,b in (x)");
  EXPECT_EQ(q["watch"], "True");
  EXPECT_EQ(q["x"], "");
  EXPECT_EQ(q["limit"], "5");
  EXPECT_EQ(query_bool(q, "watch"), true);
  EXPECT_EQ(query_int(q, "limit"), 5);
  EXPECT_FALSE(query_bool(q, "allowWatchBookmarks"));
  EXPECT_THROW(query_bool({{"b", "yes"}}, "b"), kpath::Error);
  EXPECT_THROW(query_int({{"i", "5s"}}, "i"), kpath::Error);
  EXPECT_THAT(path_segments("/api//v1/namespaces/a%2Db/services?x=/y"),
              ElementsAre("api", "v1", "namespaces", "a-b", "services"));
  EXPECT_EQ(percent_decode("100%"), "100%");
}

TEST(Request, Base64UrlRoundTrips) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\xfe", 3), std::string(100, '\x7f')})
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64url_decode("a+b"));
}

}  // namespace
