// kpath as the Kubernetes API server that real Service proxies (kube-proxy,
// kube-router, ...) list and watch: Services, EndpointSlices (v1 and
// v1beta1), Endpoints and Nodes from the case's model, over plain HTTP on
// 127.0.0.1 inside each node's network namespace. A new model (an endpoint
// change) reaches every open watch as ADDED/MODIFIED/DELETED events.
// What is served and what is not: docs/apiserver.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/apiserver/api.h"
#include "harness/model/model.h"
#include "netns/namespace.h"

namespace harness::apiserver {

struct ApiServerOptions {
  ApiOptions api;
  std::chrono::milliseconds bookmark_interval{std::chrono::seconds(60)};  // to watches that allow bookmarks
  size_t history_limit = 10000;           // changes kept for watches and lists at an older resourceVersion
  size_t request_log_limit = 10000;       // requests kept for requests()
  size_t watch_backlog_limit = 16 << 20;  // bytes queued to one watch before it is cut (a stuck client)
};

// One request as a client sent it, for tests and failure reports.
struct RecordedRequest {
  std::string method;
  std::string path;
  std::string query;  // decoded
  std::string user_agent;
  int status = 0;  // a watch: 200 when it started
};

class ApiServer {
 public:
  explicit ApiServer(const Cluster& cluster, ApiServerOptions options = {});
  // Ends every watch and connection, closes every socket, joins the thread.
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Listens on 127.0.0.1:port inside ns (port 0: the kernel picks) and returns
  // the URL, "http://127.0.0.1:PORT". The namespace's lo must be up. One server
  // may listen in many namespaces; all see the same objects.
  std::string listen(const netns::Namespace& ns, uint16_t port = 0);

  // Serves cluster's objects from now on: each object that changed gets a new
  // resourceVersion and one watch event. Returns when every open watch has
  // the events queued.
  void update(const Cluster& cluster);

  uint64_t resource_version() const;
  std::vector<RecordedRequest> requests() const;
  std::vector<PostedEvent> events() const;
  // Watches open now.
  size_t watches() const;
  // Ends every open watch as its timeout would (a last BOOKMARK to those that
  // allow them): informers then watch again from their resourceVersion.
  void end_watches();

  // A kubeconfig (YAML) for a client of url: no credentials, namespace default.
  static std::string kubeconfig(const std::string& url);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace harness::apiserver
