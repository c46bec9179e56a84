// In-process echo servers: TCP and UDP listeners created inside pod (or node)
// namespaces, all driven by one epoll thread. Each reply names the backend and
// the peer address it saw, so one probe tells who answered and whether the
// source was NATed.
#pragma once

#include <string>
#include <thread>
#include <vector>

#include "harness/traffic/socket_util.h"
#include "harness/model/model.h"
#include "netns/namespace.h"

namespace harness {

class EchoServers {
 public:
  EchoServers();
  ~EchoServers();
  EchoServers(const EchoServers&) = delete;
  EchoServers& operator=(const EchoServers&) = delete;

  // Listens on port/protocol on every address of ns (IPv4, and IPv6 when
  // with_v6), answering as `backend`. Call before start().
  void listen(const netns::Namespace& ns, const std::string& backend, uint16_t port,
              Protocol protocol, bool with_v6 = false);
  void start();
  void stop();

 private:
  struct Listener {
    kpath::Fd fd;
    std::string backend;
    Protocol protocol;
  };
  void loop();
  void accept_all(const Listener& l);
  void answer_datagrams(const Listener& l);

  std::vector<Listener> listeners_;
  kpath::Fd epoll_;
  kpath::Fd wake_;
  std::thread thread_;
};

}  // namespace harness
