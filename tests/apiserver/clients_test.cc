// Clients nobody here wrote, run inside the scratch namespace the server
// listens in: kubectl (Debian's kubernetes-client, client-go 1.20; KPATH_KUBECTL
// picks another) and the official Python client (python3-kubernetes;
// KPATH_PYTHON picks the interpreter).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>

#include "fixtures.h"
#include "harness/apiserver/apiserver.h"
#include "harness/cases/case_loader.h"
#include "http_client.h"
#include "netns/link.h"
#include "netns/process.h"
#include "support/host_process.h"
#include "support/privileges.h"

// A client this machine lacks skips the test, and fails it under CI=true.
#define KPATH_REQUIRE_CLIENT(why_missing)     \
  do {                                        \
    std::string why = (why_missing);          \
    if (!why.empty()) {                       \
      if (kpath_test::in_ci()) FAIL() << why; \
      GTEST_SKIP() << why;                    \
    }                                         \
  } while (0)

namespace {

using namespace std::chrono_literals;
using harness::apiserver::ApiServer;
using harness::apiserver::Json;
using kpath_test::wait_until;
using testing::HasSubstr;
namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

bool on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return fs::exists(program);
  std::stringstream path(env_or("PATH", ""));
  for (std::string dir; std::getline(path, dir, ':');)
    if (!dir.empty() && fs::exists(fs::path(dir) / program)) return true;
  return false;
}

// Debian's python3 (where python3-kubernetes lives) before whatever python3 is first on PATH.
std::string python() { return env_or("KPATH_PYTHON", fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"); }

class Clients : public testing::Test {
 protected:
  void SetUp() override {
    if (!kpath_test::has_net_admin()) return;
    ns_ = netns::Namespace::create();
    netns::set_up(ns_, "lo");
    cluster_ = harness::load_case(std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml").cluster;
    server_.emplace(cluster_);
    std::string pattern = (fs::temp_directory_path() / "kpath-apiserver-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    kubeconfig_ = (fs::path(dir_) / "kubeconfig").string();
    std::ofstream(kubeconfig_) << ApiServer::kubeconfig(server_->listen(ns_));
  }
  void TearDown() override {
    server_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Empty when the client runs; else why not.
  std::string missing(const std::string& what, const std::vector<std::string>& probe) {
    auto r = on_path(probe[0]) ? kpath_test::run_on_host(ns_, probe, "", 30s) : netns::ProcessResult{};
    return r.exit_code == 0 ? "" : what + " is not installed (ci/install-deps.sh installs it)";
  }
  std::string missing_kubectl() { return missing("kubectl", {kubectl_, "version", "--client"}); }
  std::string missing_python_client() { return missing("python3-kubernetes", {python(), "-c", "import kubernetes"}); }

  netns::ProcessResult kubectl(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) {
    std::vector<std::string> argv = {kubectl_, "--kubeconfig", kubeconfig_, "--cache-dir", dir_ + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    return kpath_test::run_on_host(ns_, argv, "", timeout);
  }
  netns::ProcessResult python_client(std::vector<std::string> args) {
    std::vector<std::string> argv = {python(), std::string(KPATH_TESTS_DIR) + "/apiserver/clients.py", kubeconfig_};
    argv.insert(argv.end(), args.begin(), args.end());
    return kpath_test::run_on_host(ns_, argv, "", 90s);
  }

  // Watch requests so far from clients whose user agent starts with `agent`.
  size_t watch_requests(const std::string& agent) {
    size_t n = 0;
    for (const auto& r : server_->requests())
      if (r.user_agent.starts_with(agent) &&
          (r.query.find("watch=true") != std::string::npos || r.query.find("watch=True") != std::string::npos))
        ++n;
    return n;
  }
  // Waits for the n-th watch from `agent` to be open.
  bool watch_started(const std::string& agent, size_t n = 1) {
    return wait_until([&] { return watch_requests(agent) >= n && server_->watches() > 0; }, 30s);
  }

  void add_service(const std::string& name, const std::string& ip) {
    harness::Service s = cluster_.services.at(0);
    s.name = name;
    s.cluster_ip = kpath::Ip::from(ip);
    s.ports[0].node_port = 30081;
    cluster_.services.push_back(s);
    server_->update(cluster_);
  }

  std::string kubectl_ = env_or("KPATH_KUBECTL", "kubectl");
  netns::Namespace ns_;
  harness::Cluster cluster_;
  std::optional<ApiServer> server_;
  std::string dir_, kubeconfig_;
};

TEST_F(Clients, KubectlGetServicesAsJson) {
  KPATH_REQUIRE_NET_ADMIN();
  KPATH_REQUIRE_CLIENT(missing_kubectl());
  auto r = kubectl({"get", "services", "-A", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json list = Json::parse(r.out);
  ASSERT_EQ(list["items"].size(), cluster_.services.size());
  for (size_t i = 0; i < cluster_.services.size(); ++i) {
    const auto& want = cluster_.services[i];
    EXPECT_EQ(list["items"][i]["metadata"]["name"], want.name);
    EXPECT_EQ(list["items"][i]["metadata"]["namespace"], want.ns);
    EXPECT_EQ(list["items"][i]["spec"]["clusterIP"], want.cluster_ip->str());
    EXPECT_EQ(list["items"][i]["spec"]["ports"][0]["nodePort"], want.ports[0].node_port);
  }
}

TEST_F(Clients, KubectlGetEndpointSlicesAndNodes) {
  KPATH_REQUIRE_NET_ADMIN();
  KPATH_REQUIRE_CLIENT(missing_kubectl());
  auto slices = kubectl({"get", "endpointslices.discovery.k8s.io", "-A"});
  ASSERT_EQ(slices.exit_code, 0) << slices.err;
  EXPECT_THAT(slices.out, testing::ContainsRegex("default +webapp1-nodeport-svc-kpath +IPv4 +80 +10.32.0.3,10.32.0.5"));
  auto services = kubectl({"get", "svc", "-o", "wide"});
  ASSERT_EQ(services.exit_code, 0) << services.err;
  EXPECT_THAT(services.out,
              testing::ContainsRegex("webapp1-nodeport-svc +NodePort +10.103.188.73 +<none> +80:30080/TCP"));
  auto nodes = kubectl({"get", "nodes", "-o", "wide"});
  ASSERT_EQ(nodes.exit_code, 0) << nodes.err;
  EXPECT_THAT(nodes.out, testing::ContainsRegex("master +Ready .* 192.168.100.1"));
  auto missing = kubectl({"get", "svc", "nope"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("services \"nope\" not found"));
}

// kubectl get --watch lists, then watches from the list's version; the
// Service added meanwhile is printed, and kubectl exits when the server ends the watch.
TEST_F(Clients, KubectlWatchSeesAnAddedService) {
  KPATH_REQUIRE_NET_ADMIN();
  KPATH_REQUIRE_CLIENT(missing_kubectl());
  auto watching = std::async(std::launch::async, [&] { return kubectl({"get", "svc", "--watch"}, 90s); });
  bool started = watch_started("kubectl");
  if (started) add_service("added-svc", "10.96.0.77");
  server_->end_watches();
  auto r = watching.get();
  ASSERT_TRUE(started) << "no watch from kubectl; it said: " << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, testing::ContainsRegex("webapp1-nodeport-svc +NodePort +10.103.188.73"));
  EXPECT_THAT(r.out, testing::ContainsRegex("added-svc +NodePort +10.96.0.77 +<none> +80:30081/TCP"));
}

// kubectl wait watches the one Service by name (client-go >= 1.23: with an
// informer); when the server ends the watch it watches again from where it
// was, and the deletion that follows ends the wait.
TEST_F(Clients, KubectlWaitResumesAfterTheWatchEnds) {
  KPATH_REQUIRE_NET_ADMIN();
  KPATH_REQUIRE_CLIENT(missing_kubectl());
  auto waiting = std::async(std::launch::async, [&] {
    return kubectl({"wait", "--for=delete", "service/webapp1-nodeport-svc", "--timeout=60s"}, 90s);
  });
  bool first = watch_started("kubectl");
  server_->end_watches();
  bool second = first && watch_started("kubectl", 2);
  if (second) {
    cluster_.services.clear();
    server_->update(cluster_);
  } else {
    server_->end_watches();
  }
  auto r = waiting.get();
  ASSERT_TRUE(second) << "kubectl did not watch again; it said: " << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("service/webapp1-nodeport-svc condition met"));
  for (const auto& req : server_->requests()) {
    if (req.query.find("watch=true") == std::string::npos) continue;
    EXPECT_THAT(req.query, HasSubstr("fieldSelector=metadata.name=webapp1-nodeport-svc"));
  }
}

TEST_F(Clients, PythonClientLists) {
  KPATH_REQUIRE_NET_ADMIN();
  KPATH_REQUIRE_CLIENT(missing_python_client());
  auto r = python_client({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("service default webapp1-nodeport-svc 10.103.188.73 NodePort 80:30080/TCP\n"));
  EXPECT_THAT(r.out, HasSubstr("slice webapp1-nodeport-svc-kpath IPv4 10.32.0.3 master True\n"));
  EXPECT_THAT(r.out, HasSubstr("slice webapp1-nodeport-svc-kpath IPv4 10.32.0.5 master True\n"));
  EXPECT_THAT(r.out, HasSubstr("slice-v1beta1 webapp1-nodeport-svc-kpath 10.32.0.3 master\n"));
  EXPECT_THAT(r.out, HasSubstr("node master 192.168.100.1\n"));
}

TEST_F(Clients, PythonClientWatchSeesAnAddedService) {
  KPATH_REQUIRE_NET_ADMIN();
  KPATH_REQUIRE_CLIENT(missing_python_client());
  auto watching = std::async(std::launch::async, [&] { return python_client({"watch-services", "added-svc"}); });
  bool started = watch_started("OpenAPI-Generator");
  if (started) add_service("added-svc", "10.96.0.77");
  else server_->end_watches();
  auto r = watching.get();
  ASSERT_TRUE(started) << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("event ADDED added-svc"));
}

// A case's endpoint change (a pod becomes not ready) reaches a watcher.
TEST_F(Clients, PythonClientWatchSeesAnEndpointChange) {
  KPATH_REQUIRE_NET_ADMIN();
  KPATH_REQUIRE_CLIENT(missing_python_client());
  const std::string slice = cluster_.slices.at(0).name;
  auto watching = std::async(std::launch::async, [&] { return python_client({"watch-slices", slice}); });
  bool started = watch_started("OpenAPI-Generator");
  if (started) {
    cluster_.slices[0].endpoints[0].ready = false;
    server_->update(cluster_);
  } else {
    server_->end_watches();
  }
  auto r = watching.get();
  ASSERT_TRUE(started) << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("event MODIFIED " + slice));
}

}  // namespace
