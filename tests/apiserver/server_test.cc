// The server over real sockets inside scratch namespaces (CAP_NET_ADMIN):
// chunked watch streams, bookmarks, timeouts, hang-ups, many namespaces, and
// nothing left behind.
#include "harness/apiserver/apiserver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "base/error.h"
#include "fixtures.h"
#include "http_client.h"
#include "netns/link.h"
#include "support/privileges.h"

namespace {

using namespace std::chrono_literals;
using harness::apiserver::ApiServer;
using harness::apiserver::ApiServerOptions;
using harness::apiserver::Json;
using kpath_test::HttpClient;
using kpath_test::port_of;
using kpath_test::small_cluster;
using kpath_test::wait_until;
using testing::HasSubstr;

netns::Namespace namespace_with_lo() {
  auto ns = netns::Namespace::create();
  netns::set_up(ns, "lo");
  return ns;
}

size_t entries(const char* dir) {
  auto it = std::filesystem::directory_iterator(dir);
  return static_cast<size_t>(std::distance(it, std::filesystem::directory_iterator()));
}

// The JSON objects of a chunked watch stream, in order.
std::vector<Json> watch_events(const std::string& response) {
  std::vector<Json> out;
  std::string body = kpath_test::body_of(response);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    size_t size = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) break;
    std::string data = body.substr(eol + 2, size);
    for (size_t start = 0, nl; (nl = data.find('\n', start)) != std::string::npos; start = nl + 1)
      out.push_back(Json::parse(data.substr(start, nl - start)));
    pos = eol + 2 + size + 2;
  }
  return out;
}

harness::Service extra_service(const std::string& name, const std::string& ip) {
  harness::Service s = kpath_test::web_service();
  s.name = name;
  s.cluster_ip = kpath::Ip::from(ip);
  s.ports[0].node_port = 0;
  s.type = harness::ServiceType::ClusterIP;
  return s;
}

TEST(ApiServer, ServesInsideTheNamespace) {
  KPATH_REQUIRE_NET_ADMIN();
  auto ns = namespace_with_lo();
  ApiServer server(small_cluster());
  std::string url = server.listen(ns);
  EXPECT_THAT(url, testing::StartsWith("http://127.0.0.1:"));
  HttpClient c(ns, port_of(url));
  c.send("GET", "/api/v1/namespaces/default/services/web", "Connection: close\r\n");
  ASSERT_TRUE(c.read_to_eof(10s));
  EXPECT_THAT(c.received(), testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(c.received(), HasSubstr("Content-Type: application/json"));
  Json web = Json::parse(kpath_test::body_of(c.received()));
  EXPECT_EQ(web["spec"]["clusterIP"], "10.96.0.10");

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/api/v1/namespaces/default/services/web");
  EXPECT_EQ(requests[0].user_agent, "kpath-test/1.0");
  EXPECT_EQ(requests[0].status, 200);
}

TEST(ApiServer, KeepAliveServesManyRequestsOnOneConnection) {
  KPATH_REQUIRE_NET_ADMIN();
  auto ns = namespace_with_lo();
  ApiServer server(small_cluster());
  HttpClient c(ns, port_of(server.listen(ns)));
  c.send("GET", "/api/v1/nodes/node-1");
  ASSERT_TRUE(c.read_until("\"node-1\"", 10s));
  c.send("GET", "/api/v1/namespaces/default/services/nope");
  ASSERT_TRUE(c.read_until("HTTP/1.1 404 Not Found", 10s));
  c.send("POST", "/api/v1/namespaces/default/services", "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
  ASSERT_TRUE(c.read_to_eof(10s));
  EXPECT_THAT(c.received(), HasSubstr("HTTP/1.1 405 Method Not Allowed"));
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.requests()[1].status, 404);
}

TEST(ApiServer, WatchStreamsChangesAsChunks) {
  KPATH_REQUIRE_NET_ADMIN();
  auto ns = namespace_with_lo();
  auto cluster = small_cluster();
  ApiServer server(cluster);
  HttpClient c(ns, port_of(server.listen(ns)));
  std::string rv = std::to_string(server.resource_version());
  c.send("GET", "/api/v1/services?watch=true&allowWatchBookmarks=true&resourceVersion=" + rv);
  ASSERT_TRUE(c.read_until("Transfer-Encoding: chunked", 10s));
  ASSERT_TRUE(wait_until([&] { return server.watches() == 1; }, 10s));

  cluster.services.push_back(extra_service("api", "10.96.0.20"));
  server.update(cluster);
  ASSERT_TRUE(c.read_until("\"api\"", 10s)) << c.received();
  cluster.services.back().cluster_ip = kpath::Ip::from("10.96.0.21");
  server.update(cluster);
  ASSERT_TRUE(c.read_until("10.96.0.21", 10s));
  server.update(cluster);  // no change: no event
  cluster.services.pop_back();
  server.update(cluster);
  server.end_watches();
  ASSERT_TRUE(c.read_to_eof(10s));
  EXPECT_THAT(c.received(), testing::EndsWith("0\r\n\r\n"));  // the last chunk
  auto events = watch_events(c.received());
  std::vector<std::string> seen;
  for (const auto& e : events)
    seen.push_back(e["type"].get<std::string>() + " " + e["object"]["metadata"].value("name", ""));
  EXPECT_THAT(seen, testing::ElementsAre("ADDED api", "MODIFIED api", "DELETED api", "BOOKMARK "));
  EXPECT_EQ(events.back()["object"]["metadata"]["resourceVersion"], std::to_string(server.resource_version()));
  EXPECT_EQ(server.watches(), 0u);
}

TEST(ApiServer, WatchEndsAtItsTimeoutWithABookmark) {
  KPATH_REQUIRE_NET_ADMIN();
  auto ns = namespace_with_lo();
  ApiServer server(small_cluster());
  HttpClient c(ns, port_of(server.listen(ns)));
  c.send("GET", "/api/v1/nodes?watch=1&timeoutSeconds=1&allowWatchBookmarks=true");
  ASSERT_TRUE(c.read_to_eof(10s));
  auto events = watch_events(c.received());
  ASSERT_EQ(events.size(), 3u);  // ADDED node-1, node-2, then the bookmark
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[2]["type"], "BOOKMARK");
  EXPECT_EQ(events[2]["object"]["kind"], "Node");
}

TEST(ApiServer, BookmarksArePeriodicWhenAllowed) {
  KPATH_REQUIRE_NET_ADMIN();
  auto ns = namespace_with_lo();
  ApiServerOptions options;
  options.bookmark_interval = 20ms;
  ApiServer server(small_cluster(), options);
  uint16_t port = port_of(server.listen(ns));
  HttpClient plain(ns, port);
  plain.send("GET", "/api/v1/services?watch=true&resourceVersion=7");
  HttpClient c(ns, port);
  c.send("GET", "/api/v1/services?watch=true&resourceVersion=7&allowWatchBookmarks=true");
  auto bookmarks = [&] {
    c.read_until("never", 10ms);
    size_t n = 0;
    for (size_t pos = 0; (pos = c.received().find("BOOKMARK", pos)) != std::string::npos; ++pos) ++n;
    return n;
  };
  ASSERT_TRUE(wait_until([&] { return bookmarks() >= 2; }, 10s)) << c.received();
  EXPECT_FALSE(plain.read_until("BOOKMARK", 50ms)) << plain.received();
  EXPECT_EQ(server.watches(), 2u);
}

TEST(ApiServer, WatchFromAnExpiredVersionGetsGoneInTheStream) {
  KPATH_REQUIRE_NET_ADMIN();
  auto ns = namespace_with_lo();
  ApiServerOptions options;
  options.history_limit = 2;
  ApiServer server(small_cluster(), options);
  HttpClient c(ns, port_of(server.listen(ns)));
  c.send("GET", "/api/v1/services?watch=true&resourceVersion=1");
  ASSERT_TRUE(c.read_to_eof(10s));
  EXPECT_THAT(c.received(), testing::StartsWith("HTTP/1.1 200 OK"));
  auto events = watch_events(c.received());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ERROR");
  EXPECT_EQ(events[0]["object"]["code"], 410);
  EXPECT_EQ(events[0]["object"]["reason"], "Expired");
}

TEST(ApiServer, ClientHangupEndsTheWatch) {
  KPATH_REQUIRE_NET_ADMIN();
  auto ns = namespace_with_lo();
  ApiServer server(small_cluster());
  HttpClient c(ns, port_of(server.listen(ns)));
  c.send("GET", "/api/v1/services?watch=true");
  ASSERT_TRUE(wait_until([&] { return server.watches() == 1; }, 10s));
  c.close();
  EXPECT_TRUE(wait_until([&] { return server.watches() == 0; }, 10s));
}

TEST(ApiServer, OneServerManyNamespaces) {
  KPATH_REQUIRE_NET_ADMIN();
  auto a = namespace_with_lo();
  auto b = namespace_with_lo();
  auto cluster = small_cluster();
  ApiServer server(cluster);
  std::string url_a = server.listen(a);
  std::string url_b = server.listen(b, 6443);  // a fixed port: each namespace has its own
  EXPECT_EQ(url_b, "http://127.0.0.1:6443");
  HttpClient ca(a, port_of(url_a));
  HttpClient cb(b, 6443);
  for (HttpClient* c : {&ca, &cb})
    c->send("GET", "/apis/discovery.k8s.io/v1/endpointslices?watch=true&resourceVersion=7");
  ASSERT_TRUE(wait_until([&] { return server.watches() == 2; }, 10s));
  cluster.slices[0].endpoints[0].ready = false;  // an endpoint change reaches both nodes
  server.update(cluster);
  for (HttpClient* c : {&ca, &cb}) {
    ASSERT_TRUE(c->read_until("MODIFIED", 10s));
    EXPECT_THAT(c->received(), HasSubstr("web-abc12"));
  }
  EXPECT_THROW(server.listen(b, 6443), kpath::Error);  // taken
}

TEST(ApiServer, ListenNeedsLoopbackUp) {
  KPATH_REQUIRE_NET_ADMIN();
  auto ns = netns::Namespace::create();
  ApiServer server(small_cluster());
  try {
    server.listen(ns);
    FAIL() << "listen succeeded with lo down";
  } catch (const kpath::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("lo is not up"));
  }
}

// The destructor ends open watches and connections, closes every socket and
// joins its thread.
TEST(ApiServer, NothingLeftBehind) {
  KPATH_REQUIRE_NET_ADMIN();
  auto a = namespace_with_lo();
  auto b = namespace_with_lo();
  size_t threads = entries("/proc/self/task"), fds = entries("/proc/self/fd");
  {
    std::optional<HttpClient> watch, idle;
    {
      ApiServer server(small_cluster());
      uint16_t port_a = port_of(server.listen(a));
      server.listen(b);
      watch.emplace(a, port_a);
      watch->send("GET", "/api/v1/services?watch=true");
      idle.emplace(a, port_a);
      idle->send("GET", "/version");
      ASSERT_TRUE(idle->read_until("gitVersion", 10s));
      ASSERT_TRUE(wait_until([&] { return server.watches() == 1; }, 10s));
      EXPECT_GT(entries("/proc/self/task"), threads);
    }
    EXPECT_TRUE(watch->read_to_eof(10s));  // the server closed them
    EXPECT_TRUE(idle->read_to_eof(10s));
  }
  EXPECT_EQ(entries("/proc/self/task"), threads);
  EXPECT_EQ(entries("/proc/self/fd"), fds);
}

TEST(ApiServer, Kubeconfig) {
  std::string k = ApiServer::kubeconfig("http://127.0.0.1:6443");
  EXPECT_THAT(k, HasSubstr("server: http://127.0.0.1:6443\n"));
  EXPECT_THAT(k, HasSubstr("current-context: kpath\n"));
  EXPECT_THAT(k, HasSubstr("kind: Config\n"));
}

}  // namespace
