#include "harness/traffic/prober.h"
#include "harness/traffic/socket_util.h"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <deque>
#include <exception>
#include <thread>

#include "base/error.h"
#include "base/errno.h"

namespace harness {

namespace {

using Clock = std::chrono::steady_clock;

Outcome classify(int err) {
  switch (err) {
    case ECONNREFUSED: return Outcome::Refused;
    case ECONNRESET:
    case EPIPE: return Outcome::Reset;
    case ETIMEDOUT: return Outcome::Timeout;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENONET:
    case EACCES: return Outcome::Unreachable;  // ICMP admin-prohibited shows up as these
    case EPERM: return Outcome::OutputDrop;    // no ICMP error maps to EPERM: netfilter dropped the send here
    default: return Outcome::Error;
  }
}

// The ICMP error the kernel queued for the socket (IP_RECVERR), if any: a
// refusal without one was a TCP RST.
Refusal read_refusal(int fd) {
  Refusal r;
  char control[512];
  char data[64];
  iovec iov{data, sizeof data};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return r;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
    bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
    if (!v4 && !v6) continue;
    auto* ee = reinterpret_cast<sock_extended_err*>(CMSG_DATA(c));
    if (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6) continue;
    r.icmp = true;
    r.family = v4 ? AF_INET : AF_INET6;
    r.type = ee->ee_type;
    r.code = ee->ee_code;
    const sockaddr* offender = SO_EE_OFFENDER(ee);
    if (offender->sa_family == AF_INET || offender->sa_family == AF_INET6) r.from = from_sockaddr(offender).first;
  }
  return r;
}

// "HTTP/1.1 503 Service Unavailable\r\n...\r\n\r\nBODY": the status and body.
bool parse_http(const std::string& text, int& status, std::string& body) {
  if (!text.starts_with("HTTP/1.")) return false;
  auto sp = text.find(' ');
  if (sp == std::string::npos || text.size() < sp + 4) return false;
  auto [end, ec] = std::from_chars(text.data() + sp + 1, text.data() + sp + 4, status);
  if (ec != std::errc() || end != text.data() + sp + 4) return false;
  auto head_end = text.find("\r\n\r\n");
  body = head_end == std::string::npos ? std::string() : text.substr(head_end + 4);
  return true;
}

// One in-flight probe.
struct Slot {
  kpath::Fd fd;
  int index = -1;  // which probe, -1 when free
  uint32_t generation = 0;
  Clock::time_point started;
  Protocol protocol = Protocol::TCP;
  std::string buffer;
};

// What the probing threads share: the next probe to start, and each probe's
// result in its own slot (a thread writes only the probes it took).
struct Batch {
  explicit Batch(const ProbeSpec& s) : spec(s), results(s.count), finished(s.count, 0) {}

  // The next probe's index, or -1 when every probe has been taken.
  int take() {
    int i = next.fetch_add(1, std::memory_order_relaxed);
    return i < spec.count ? i : -1;
  }

  const ProbeSpec& spec;
  std::vector<ProbeResult> results;
  std::vector<char> finished;  // per probe: a result is in results (char: threads write neighbours)
  std::atomic<int> next{0};
};

// One probing thread's epoll loop over `width` slots.
class Engine {
 public:
  Engine(Batch& batch, int width) : spec_(batch.spec), batch_(batch), slots_(width) {
    epoll_ = kpath::Fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_.valid()) kpath::throw_errno("prober: epoll");
  }

  // Probes until every probe is taken and finished, the deadline or a stop.
  void run() {
    for (size_t s = 0; s < slots_.size(); ++s) launch(s);
    epoll_event events[128];
    while (busy_ > 0 && may_probe()) {
      int wait_ms = -1;
      if (!deadlines_.empty()) wait_ms = ms_until(deadlines_.front().at);
      if (spec_.deadline != Clock::time_point::max())
        wait_ms = wait_ms < 0 ? ms_until(spec_.deadline) : std::min(wait_ms, ms_until(spec_.deadline));
      if (spec_.stop) wait_ms = wait_ms < 0 ? kStopTickMs : std::min(wait_ms, kStopTickMs);
      int n = epoll_wait(epoll_.get(), events, 128, wait_ms);
      if (n < 0 && errno != EINTR) kpath::throw_errno("prober: epoll_wait");
      for (int i = 0; i < n; ++i) on_event(events[i].data.u32, events[i].events);
      expire();
    }
  }

 private:
  struct Deadline {
    Clock::time_point at;
    size_t slot;
    uint32_t generation;
  };

  static constexpr int kStopTickMs = 50;

  // Whether probes may still start and run: before the deadline, no stop.
  bool may_probe() const { return Clock::now() < spec_.deadline && !(spec_.stop && spec_.stop->load()); }

  static int ms_until(Clock::time_point at) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at - Clock::now());
    return std::max<int>(0, static_cast<int>(left.count()) + 1);
  }

  // Starts the next probe not yet taken in slot s, if any is left.
  void launch(size_t s) {
    int index = batch_.take();
    if (index < 0) return;
    Slot& slot = slots_[s];
    slot.index = index;
    ++busy_;
    slot.generation++;
    slot.buffer.clear();
    slot.started = Clock::now();
    deadlines_.push_back({slot.started + spec_.timeout, s, slot.generation});
    const ProbeTarget target = target_of(slot.index);
    slot.protocol = target.protocol;
    int type = target.protocol == Protocol::UDP ? SOCK_DGRAM : SOCK_STREAM;
    int proto = target.protocol == Protocol::SCTP ? IPPROTO_SCTP : 0;
    slot.fd = kpath::Fd(::socket(target.address.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto));
    if (!slot.fd.valid()) return finish(s, Outcome::Error, errno);
    // Queue ICMP errors with their sender, to tell a REJECT rule from a RST.
    int on = 1;
    if (target.address.is_v4()) setsockopt(slot.fd.get(), IPPROTO_IP, IP_RECVERR, &on, sizeof on);
    else setsockopt(slot.fd.get(), IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
    if (spec_.source || spec_.source_port || !spec_.sources.empty()) {
      int one = 1;
      setsockopt(slot.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      kpath::Ip any = kpath::Ip::from(target.address.is_v4() ? "0.0.0.0" : "::");
      kpath::Ip from = spec_.sources.empty() ? spec_.source.value_or(any)
                                             : spec_.sources[static_cast<size_t>(slot.index) % spec_.sources.size()];
      auto local = make_sockaddr(from, spec_.source_port);
      if (::bind(slot.fd.get(), local.get(), local.len) != 0) return finish(s, Outcome::Error, errno);
    }
    auto dst = make_sockaddr(target.address, target.port);
    if (::connect(slot.fd.get(), dst.get(), dst.len) != 0 && errno != EINPROGRESS) return failed(s, errno);
    if (target.protocol == Protocol::UDP) {
      static const char kHello[] = "kpath\n";
      if (::send(slot.fd.get(), kHello, sizeof kHello - 1, 0) < 0) return failed(s, errno);
    }
    // The server speaks first, so readability alone tells the story: data and
    // EOF on success, EPOLLERR (with SO_ERROR) when the connect failed. An
    // HTTP probe speaks first itself, once writable (connected).
    bool http = !spec_.http_request.empty() && target.protocol == Protocol::TCP;
    epoll_event ev{http ? uint32_t{EPOLLOUT} : uint32_t{EPOLLIN}, {.u32 = static_cast<uint32_t>(s)}};
    epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, slot.fd.get(), &ev);
  }

  // A failed connect or exchange; a refusal keeps who refused.
  void failed(size_t s, int err) {
    if (err == ECONNREFUSED) batch_.results[slots_[s].index].refusal = read_refusal(slots_[s].fd.get());
    finish(s, classify(err), err);
  }

  ProbeTarget target_of(int index) const {
    if (spec_.targets.empty()) return {spec_.target, spec_.port, spec_.protocol};
    return spec_.targets[static_cast<size_t>(index) % spec_.targets.size()];
  }

  void on_event(uint32_t s, uint32_t events) {
    Slot& slot = slots_[s];
    if (slot.index < 0) return;
    if (events & EPOLLERR) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(slot.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return failed(s, err);
    }
    if (events & EPOLLOUT) return send_request(s);
    read_reply(s);
  }

  void send_request(size_t s) {
    Slot& slot = slots_[s];
    const std::string& req = spec_.http_request;
    if (::send(slot.fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      return failed(s, errno);
    epoll_event ev{EPOLLIN, {.u32 = static_cast<uint32_t>(s)}};
    epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, slot.fd.get(), &ev);
  }

  void read_reply(size_t s) {
    Slot& slot = slots_[s];
    char buf[512];
    for (;;) {
      ssize_t got = ::recv(slot.fd.get(), buf, sizeof buf, 0);
      if (got > 0) {
        slot.buffer.append(buf, static_cast<size_t>(got));
        if (slot.protocol == Protocol::UDP) return complete(s);  // one datagram is the reply
        continue;
      }
      if (got == 0) {  // TCP EOF: the server wrote and closed
        // Nothing is left to say: close with RST, so neither side lingers in
        // TIME_WAIT and the node's conntrack forgets the flow at once.
        linger abort{1, 0};
        setsockopt(slot.fd.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        return complete(s);
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      return failed(s, errno);
    }
  }

  void complete(size_t s) {
    Slot& slot = slots_[s];
    ProbeResult& r = batch_.results[slot.index];
    if (!spec_.http_request.empty()) {
      if (!parse_http(slot.buffer, r.http_status, r.http_body)) return finish(s, Outcome::Error, EPROTO);
      return finish(s, Outcome::Reply, 0);
    }
    if (!parse_reply(slot.buffer, r.reply)) return finish(s, Outcome::Error, EPROTO);
    finish(s, r.reply.backend == kSinkBackend ? Outcome::Leaked : Outcome::Reply, 0);
  }

  void finish(size_t s, Outcome outcome, int err) {
    Slot& slot = slots_[s];
    ProbeResult& r = batch_.results[slot.index];
    r.outcome = outcome;
    r.error = err;
    r.latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - slot.started);
    if (spec_.local_ports && slot.fd.valid()) {
      SockAddr local;
      local.len = sizeof local.storage;
      if (getsockname(slot.fd.get(), local.get(), &local.len) == 0) r.local_port = from_sockaddr(local.get()).second;
    }
    batch_.finished[slot.index] = 1;
    slot.fd.reset();  // closing also removes it from epoll
    slot.index = -1;
    slot.generation++;
    --busy_;
    if (spec_.progress) spec_.progress->fetch_add(1);
    if (may_probe()) launch(s);
  }

  // Deadlines are pushed in launch order with one timeout, so the queue stays sorted.
  void expire() {
    auto now = Clock::now();
    while (!deadlines_.empty() && deadlines_.front().at <= now) {
      Deadline d = deadlines_.front();
      deadlines_.pop_front();
      if (slots_[d.slot].generation == d.generation && slots_[d.slot].index >= 0)
        finish(d.slot, Outcome::Timeout, ETIMEDOUT);
    }
    // Drop stale entries at the front so the next wait is not too short.
    while (!deadlines_.empty() && slots_[deadlines_.front().slot].generation != deadlines_.front().generation)
      deadlines_.pop_front();
  }

  const ProbeSpec& spec_;
  Batch& batch_;
  std::vector<Slot> slots_;
  std::deque<Deadline> deadlines_;
  kpath::Fd epoll_;
  int busy_ = 0;  // slots with a probe in flight
};

// How many threads probe: one per core at most, each with a slot or more.
int thread_count(const ProbeSpec& spec, int width) {
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, std::min({spec.threads, cores, width}));
}

// Runs the batch on the calling thread and threads-1 more; they inherit its
// namespace. The slots are shared out so `concurrency` bounds them all together.
std::vector<ProbeResult> run_batch(const ProbeSpec& spec) {
  Batch batch(spec);
  int width = spec.source_port ? 1 : std::max(1, std::min(spec.concurrency, spec.count));
  int threads = thread_count(spec, width);
  std::vector<Engine> engines;
  engines.reserve(threads);
  for (int t = 0; t < threads; ++t) engines.emplace_back(batch, width / threads + (t < width % threads ? 1 : 0));
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> helpers;
  auto drive = [&](int t) {
    try {
      engines[t].run();
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  for (int t = 1; t < threads; ++t) helpers.emplace_back(drive, t);
  drive(0);
  for (auto& h : helpers) h.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  if (std::count(batch.finished.begin(), batch.finished.end(), 1) == spec.count) return std::move(batch.results);
  // The deadline passed or a stop came: what is still open is dropped, unjudged.
  std::vector<ProbeResult> finished;
  for (int i = 0; i < spec.count; ++i)
    if (batch.finished[i]) finished.push_back(std::move(batch.results[i]));
  return finished;
}

}  // namespace

std::vector<ProbeResult> run_probes(const netns::Namespace& from, const ProbeSpec& spec) {
  if (spec.count <= 0) return {};
  // The whole batch runs on a thread inside `from`, so every socket is created there.
  return from.run([&] { return run_batch(spec); });
}

}  // namespace harness
