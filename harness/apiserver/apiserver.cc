#include "harness/apiserver/apiserver.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "base/errno.h"
#include "base/error.h"
#include "base/fd.h"
#include "harness/apiserver/request.h"

namespace harness::apiserver {

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Runs on a thread inside the target namespace: the socket stays there.
kpath::Fd open_listener(uint16_t port) {
  kpath::Fd guard(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!guard.valid()) kpath::throw_errno("apiserver: socket");
  int fd = guard.get();
  // Binding 127.0.0.1 works with lo down, but nobody could connect: say so now.
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 || !(ifr.ifr_flags & IFF_UP))
    throw kpath::Error("apiserver: lo is not up in the namespace; bring it up before listen()");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0)
    kpath::throw_errno("apiserver: bind 127.0.0.1:" + std::to_string(port));
  if (::listen(fd, 128) != 0) kpath::throw_errno("apiserver: listen");
  return guard;
}

std::string chunk(const std::string& data) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

const char kWatchHeader[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-cache, private\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Connection: close\r\n\r\n";

}  // namespace

class Connection;

// What the connections share, owned by the event loop's thread.
struct ServerState {
  ServerState(const Cluster& cluster, ApiServerOptions opts)
      : store(opts.history_limit), api(store, opts.api), options(std::move(opts)) {
    store.replace(objects_of(cluster), api.now());
  }
  void record(RecordedRequest r) {
    requests.push_back(std::move(r));
    while (requests.size() > options.request_log_limit) requests.pop_front();
  }
  // The connections with an open watch.
  std::vector<std::shared_ptr<Connection>> watching() const;

  Store store;
  Api api;
  ApiServerOptions options;
  std::deque<RecordedRequest> requests;
  std::map<Connection*, std::weak_ptr<Connection>> connections;
};

// One client connection: requests and responses until the client closes it,
// or one watch stream (sent with Connection: close) until the watch ends.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerState& server, tcp::socket socket)
      : server_(server),
        socket_(std::move(socket)),
        deadline_(socket_.get_executor()),
        bookmark_timer_(socket_.get_executor()) {}

  void start() { read_request(); }
  bool watching() const { return filter_.has_value() && !finishing_ && !closed_; }
  void deliver(const Event& e);
  void finish_watch();
  void close();

 private:
  void read_request();
  void on_request();
  void respond(const HttpResponse& r, bool keep_alive);
  void start_watch(WatchStart w);
  void arm_bookmark();
  void send(const std::string& line);
  void pump();
  void watch_for_hangup();

  ServerState& server_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  asio::steady_timer deadline_;
  asio::steady_timer bookmark_timer_;
  std::optional<WatchFilter> filter_;
  bool bookmarks_ = false;
  std::string queued_;   // watch bytes not yet handed to the socket
  std::string writing_;  // watch bytes being written
  bool write_busy_ = false;
  bool finishing_ = false;
  bool closed_ = false;
  char hangup_probe_ = 0;
};

void Connection::read_request() {
  parser_.emplace();
  parser_->body_limit(1 << 20);
  auto self = shared_from_this();
  http::async_read(socket_, buffer_, *parser_, [self](error_code ec, size_t) {
    if (ec) return self->close();
    self->on_request();
  });
}

void Connection::on_request() {
  const auto& req = parser_->get();
  HttpRequest r{std::string(req.method_string()),      std::string(req.target()),
                std::string(req[http::field::accept]), std::string(req[http::field::content_type]),
                std::string(req[http::field::host]),   req.body()};
  std::variant<HttpResponse, WatchStart> outcome;
  try {
    outcome = server_.api.handle(r);
  } catch (const std::exception& e) {  // a bug here must not take the test run down
    outcome = HttpResponse{500, "application/json", status_json(500, "InternalError", e.what()).dump()};
  }
  auto q = r.target.find('?');
  RecordedRequest rec{r.method, r.target.substr(0, q),
                      q == std::string::npos ? "" : percent_decode(r.target.substr(q + 1)),
                      std::string(req[http::field::user_agent]), 200};
  if (auto* response = std::get_if<HttpResponse>(&outcome)) {
    rec.status = response->status;
    server_.record(std::move(rec));
    return respond(*response, req.keep_alive());
  }
  server_.record(std::move(rec));
  start_watch(std::move(std::get<WatchStart>(outcome)));
}

void Connection::respond(const HttpResponse& r, bool keep_alive) {
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
  res->set(http::field::content_type, r.content_type);
  res->set(http::field::cache_control, "no-cache, private");
  res->body() = r.body;
  res->keep_alive(keep_alive);
  res->prepare_payload();
  auto self = shared_from_this();
  http::async_write(socket_, *res, [self, res, keep_alive](error_code ec, size_t) {
    if (ec || !keep_alive) return self->close();
    self->read_request();
  });
}

void Connection::start_watch(WatchStart w) {
  filter_ = std::move(w.filter);
  bookmarks_ = w.bookmarks;
  queued_ = kWatchHeader;
  for (const auto& line : w.initial) send(line);
  if (w.ended) {
    bookmarks_ = false;  // an ERROR event ends it as it is
    return finish_watch();
  }
  auto self = shared_from_this();
  deadline_.expires_after(w.timeout);
  deadline_.async_wait([self](error_code ec) {
    if (!ec) self->finish_watch();
  });
  if (bookmarks_) arm_bookmark();
  watch_for_hangup();
  pump();
}

void Connection::arm_bookmark() {
  auto self = shared_from_this();
  bookmark_timer_.expires_after(server_.options.bookmark_interval);
  bookmark_timer_.async_wait([self](error_code ec) {
    if (ec || !self->watching()) return;
    self->send(self->server_.api.bookmark_line(*self->filter_));
    self->pump();
    self->arm_bookmark();
  });
}

// A watch client sends nothing more: a read that completes means it hung up.
void Connection::watch_for_hangup() {
  auto self = shared_from_this();
  socket_.async_read_some(asio::buffer(&hangup_probe_, 1), [self](error_code, size_t) { self->close(); });
}

void Connection::deliver(const Event& e) {
  if (auto line = server_.api.watch_line(*filter_, e)) {
    send(*line);
    pump();
  }
}

void Connection::send(const std::string& line) {
  queued_ += chunk(line);
  if (queued_.size() > server_.options.watch_backlog_limit) close();
}

void Connection::finish_watch() {
  if (finishing_ || closed_) return;
  if (bookmarks_) send(server_.api.bookmark_line(*filter_));
  queued_ += "0\r\n\r\n";
  finishing_ = true;
  deadline_.cancel();
  bookmark_timer_.cancel();
  pump();
}

void Connection::pump() {
  if (write_busy_ || closed_) return;
  if (queued_.empty()) {
    if (finishing_) close();
    return;
  }
  writing_ = std::move(queued_);
  queued_.clear();
  write_busy_ = true;
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(writing_), [self](error_code ec, size_t) {
    self->write_busy_ = false;
    if (ec) return self->close();
    self->pump();
  });
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  deadline_.cancel();
  bookmark_timer_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  server_.connections.erase(this);
}

std::vector<std::shared_ptr<Connection>> ServerState::watching() const {
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& [raw, weak] : connections)
    if (auto c = weak.lock(); c && c->watching()) out.push_back(c);
  return out;
}

class ApiServer::Impl {
 public:
  Impl(const Cluster& cluster, ApiServerOptions options)
      : state_(cluster, std::move(options)), work_(asio::make_work_guard(ioc_)) {
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~Impl();

  // Runs fn on the event loop and waits for it: the state has one owner thread.
  template <typename F>
  auto call(F&& fn) -> decltype(fn()) {
    if (std::this_thread::get_id() == thread_.get_id()) throw kpath::Error("apiserver: called from its own thread");
    std::packaged_task<decltype(fn())()> task(std::forward<F>(fn));
    auto done = task.get_future();
    asio::post(ioc_, [&task] { task(); });
    return done.get();
  }

  // These run on the event loop.
  std::string listen(kpath::Fd fd);
  void update(const ObjectSet& objects);
  ServerState& state() { return state_; }

 private:
  void accept(tcp::acceptor& acceptor);
  void stop();

  ServerState state_;
  bool stopping_ = false;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::thread thread_;
};

ApiServer::Impl::~Impl() {
  asio::post(ioc_, [this] { stop(); });
  work_.reset();
  thread_.join();
}

void ApiServer::Impl::stop() {
  stopping_ = true;
  for (auto& a : acceptors_) {
    error_code ignored;
    a->close(ignored);
  }
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [raw, weak] : state_.connections)
    if (auto c = weak.lock()) open.push_back(c);
  for (auto& c : open) c->close();
}

std::string ApiServer::Impl::listen(kpath::Fd fd) {
  auto acceptor = std::make_unique<tcp::acceptor>(ioc_);
  acceptor->assign(tcp::v4(), fd.release());
  uint16_t port = acceptor->local_endpoint().port();
  accept(*acceptor);
  acceptors_.push_back(std::move(acceptor));
  return "http://127.0.0.1:" + std::to_string(port);
}

void ApiServer::Impl::accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([this, &acceptor](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping_) return;
    if (!ec) {
      auto c = std::make_shared<Connection>(state_, std::move(socket));
      state_.connections[c.get()] = c;
      c->start();
    }
    accept(acceptor);
  });
}

void ApiServer::Impl::update(const ObjectSet& objects) {
  auto events = state_.store.replace(objects, state_.api.now());
  auto open = state_.watching();
  for (const auto& e : events)
    for (auto& c : open)
      if (c->watching()) c->deliver(e);
}

ApiServer::ApiServer(const Cluster& cluster, ApiServerOptions options)
    : impl_(std::make_unique<Impl>(cluster, std::move(options))) {}

ApiServer::~ApiServer() = default;

std::string ApiServer::listen(const netns::Namespace& ns, uint16_t port) {
  kpath::Fd fd = ns.run([port] { return open_listener(port); });
  try {
    return impl_->call([&] { return impl_->listen(std::move(fd)); });
  } catch (const boost::system::system_error& e) {
    throw kpath::Error(std::string("apiserver: listen: ") + e.what());
  }
}

void ApiServer::update(const Cluster& cluster) {
  ObjectSet objects = objects_of(cluster);
  impl_->call([&] { impl_->update(objects); });
}

uint64_t ApiServer::resource_version() const {
  return impl_->call([&] { return impl_->state().store.resource_version(); });
}

std::vector<RecordedRequest> ApiServer::requests() const {
  return impl_->call([&] {
    const auto& r = impl_->state().requests;
    return std::vector<RecordedRequest>(r.begin(), r.end());
  });
}

std::vector<PostedEvent> ApiServer::events() const {
  return impl_->call([&] {
    const auto& e = impl_->state().api.events();
    return std::vector<PostedEvent>(e.begin(), e.end());
  });
}

size_t ApiServer::watches() const {
  return impl_->call([&] { return impl_->state().watching().size(); });
}

void ApiServer::end_watches() {
  impl_->call([&] {
    for (auto& c : impl_->state().watching()) c->finish_watch();
  });
}

std::string ApiServer::kubeconfig(const std::string& url) {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: kpath\n"
         "  cluster:\n"
         "    server: " +
         url +
         "\n"
         "contexts:\n"
         "- name: kpath\n"
         "  context:\n"
         "    cluster: kpath\n"
         "    user: kpath\n"
         "    namespace: default\n"
         "current-context: kpath\n"
         "users:\n"
         "- name: kpath\n"
         "  user: {}\n";
}

}  // namespace harness::apiserver
