// In-process echo servers: TCP and UDP listeners created inside pod (or node)
// namespaces, all driven by one epoll thread. Each reply names the backend and
// the peer address it saw, so one probe tells who answered and whether the
// source was NATed.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness/traffic/socket_util.h"
#include "harness/model/model.h"
#include "netns/namespace.h"

namespace harness {

// A Service's health check as kube-proxy's health server answers it: 200
// with the node's local endpoint count when it has any, 503 when none. The
// count is read at each request (the runner updates it at endpoint changes).
struct HealthCheck {
  std::string ns;  // the Service's namespace and name, for the JSON body
  std::string name;
  std::shared_ptr<const std::atomic<int>> local_endpoints;
};

// The HTTP response kube-proxy's health server writes for c's current count.
std::string health_response(const HealthCheck& c);

class EchoServers {
 public:
  EchoServers();
  ~EchoServers();
  EchoServers(const EchoServers&) = delete;
  EchoServers& operator=(const EchoServers&) = delete;

  // Listens on port/protocol on every address of ns (IPv4, and IPv6 when
  // with_v6), answering as `backend`. Call before start().
  void listen(const netns::Namespace& ns, const std::string& backend, uint16_t port, Protocol protocol,
              bool with_v6 = false);
  // Answers HTTP on port/TCP of ns as kube-proxy's health server does for c.
  // with_v6: on the node's IPv6 addresses too (kube-proxy's health server listens on every family's).
  void listen_health(const netns::Namespace& ns, uint16_t port, HealthCheck c, bool with_v6 = false);
  void start();
  void stop();

 private:
  struct Listener {
    kpath::Fd fd;
    std::string backend;
    Protocol protocol;
    std::optional<HealthCheck> health;
  };
  // A health-check connection waiting for the end of its request.
  struct Request {
    kpath::Fd fd;
    size_t listener;
    std::string text;
  };
  void loop();
  void accept_all(const Listener& l);
  void accept_requests(size_t listener);
  void read_request(int fd);
  void answer_datagrams(const Listener& l);

  std::vector<Listener> listeners_;
  std::map<int, Request> requests_;  // by fd
  kpath::Fd epoll_;
  kpath::Fd wake_;
  std::thread thread_;
};

}  // namespace harness
