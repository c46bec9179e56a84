// Test helpers for the API server's kernel tests: a blocking HTTP client whose
// socket is made inside a namespace, and bounded polling.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "base/errno.h"
#include "base/error.h"
#include "base/fd.h"
#include "netns/namespace.h"

namespace kpath_test {

// Polls pred every 10 ms until it holds or timeout passes; returns the last answer.
inline bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

inline uint16_t port_of(const std::string& url) {
  return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

class HttpClient {
 public:
  // Connects to 127.0.0.1:port inside ns.
  HttpClient(const netns::Namespace& ns, uint16_t port) {
    fd_.reset(ns.run([] { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); }));
    if (!fd_.valid()) throw kpath::Error("test client: socket");
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0)
      kpath::throw_errno("test client: connect");
  }
  void close() { fd_.reset(); }

  void send(const std::string& method, const std::string& target, const std::string& extra_headers = "") {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: kpath-test/1.0\r\n" +
                      extra_headers + "\r\n";
    if (::write(fd_.get(), req.data(), req.size()) != static_cast<ssize_t>(req.size()))
      throw kpath::Error("test client: write");
  }

  // Reads until `needle` has arrived (true) or the timeout or EOF (false).
  bool read_until(const std::string& needle, std::chrono::milliseconds timeout) {
    read_while([&] { return received_.find(needle) == std::string::npos; }, timeout);
    return received_.find(needle) != std::string::npos;
  }
  // Reads until the server closes the connection (true) or the timeout (false).
  bool read_to_eof(std::chrono::milliseconds timeout) {
    read_while([] { return true; }, timeout);
    return eof_;
  }
  const std::string& received() const { return received_; }
  bool eof() const { return eof_; }

 private:
  void read_while(const std::function<bool()>& more, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (more() && !eof_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[65536];
      ssize_t n = ::read(fd_.get(), buf, sizeof buf);
      if (n <= 0) {
        eof_ = true;
        break;
      }
      received_.append(buf, static_cast<size_t>(n));
    }
  }

  kpath::Fd fd_;
  std::string received_;
  bool eof_ = false;
};

// The body of a complete response read to EOF (Content-Length or chunked).
inline std::string body_of(const std::string& response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

}  // namespace kpath_test
