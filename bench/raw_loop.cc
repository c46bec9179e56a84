// The reference loop of kpath's benchmark: the probe kpath sends, written bare
// (plain POSIX, no kpath library), so ci/bench.sh can say how close kpath's
// prober comes to what the machine allows. Each probe is a new socket:
// TCP connects without blocking, reads the server's reply to EOF and closes
// with RST (SO_LINGER 0); UDP sends one datagram and reads one back. Probes
// run `concurrency` at a time, split over `threads` epoll loops, all inside
// the network namespace given by path (e.g. /run/netns/NAME).
//
//   kpath_raw_loop NETNS_PATH IP PORT tcp|udp COUNT CONCURRENCY THREADS
//
// Prints one JSON object: the figures and the probes per second.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(1);

struct Options {
  sockaddr_in target{};
  bool udp = false;
  int count = 0;
  int concurrency = 0;
  int threads = 0;
};

struct Tally {
  std::atomic<int> next{0};  // the next probe to start, shared by the threads
  std::atomic<int> replies{0};
  std::atomic<int> timeouts{0};
  std::atomic<int> errors{0};
};

struct Slot {
  int fd = -1;
  Clock::time_point started;
};

class Loop {
 public:
  Loop(const Options& o, Tally& t, int width) : o_(o), t_(t), slots_(width), epoll_(epoll_create1(EPOLL_CLOEXEC)) {}
  ~Loop() { close(epoll_); }

  void run() {
    for (size_t s = 0; s < slots_.size(); ++s) start(s);
    epoll_event events[256];
    while (busy_ > 0) {
      int n = epoll_wait(epoll_, events, 256, 100);
      for (int i = 0; i < n; ++i) read_reply(events[i].data.u32);
      expire();
    }
  }

 private:
  // Takes the next probe, if any is left, into slot s.
  void start(size_t s) {
    if (t_.next.fetch_add(1) >= o_.count) return;
    Slot& slot = slots_[s];
    slot.started = Clock::now();
    slot.fd = socket(AF_INET, (o_.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ++busy_;
    if (slot.fd < 0) return end(s, t_.errors);
    if (connect(slot.fd, reinterpret_cast<const sockaddr*>(&o_.target), sizeof o_.target) != 0 && errno != EINPROGRESS)
      return end(s, t_.errors);
    if (o_.udp && send(slot.fd, "kpath\n", 6, 0) < 0) return end(s, t_.errors);
    epoll_event ev{EPOLLIN, {.u32 = static_cast<uint32_t>(s)}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, slot.fd, &ev);
  }

  void read_reply(size_t s) {
    Slot& slot = slots_[s];
    if (slot.fd < 0) return;
    char buf[512];
    for (;;) {
      ssize_t got = recv(slot.fd, buf, sizeof buf, 0);
      if (got > 0 && o_.udp) return end(s, t_.replies);
      if (got > 0) continue;
      if (got == 0) {  // the server wrote and closed: close with RST
        linger abort{1, 0};
        setsockopt(slot.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        return end(s, t_.replies);
      }
      if (errno == EAGAIN) return;
      return end(s, t_.errors);
    }
  }

  void expire() {
    auto now = Clock::now();
    for (size_t s = 0; s < slots_.size(); ++s)
      if (slots_[s].fd >= 0 && now - slots_[s].started > kTimeout) end(s, t_.timeouts);
  }

  void end(size_t s, std::atomic<int>& counter) {
    ++counter;
    if (slots_[s].fd >= 0) close(slots_[s].fd);
    slots_[s].fd = -1;
    --busy_;
    start(s);
  }

  const Options& o_;
  Tally& t_;
  std::vector<Slot> slots_;
  int epoll_;
  int busy_ = 0;
};

bool parse(int argc, char** argv, Options& o) {
  if (argc != 8) return false;
  o.target.sin_family = AF_INET;
  o.target.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[3])));
  if (inet_pton(AF_INET, argv[2], &o.target.sin_addr) != 1) return false;
  o.udp = std::strcmp(argv[4], "udp") == 0;
  o.count = std::atoi(argv[5]);
  o.concurrency = std::atoi(argv[6]);
  o.threads = std::atoi(argv[7]);
  return o.count > 0 && o.concurrency >= o.threads && o.threads > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: %s NETNS_PATH IP PORT tcp|udp COUNT CONCURRENCY THREADS\n", argv[0]);
    return 2;
  }
  // Threads started after this are in the namespace too.
  int ns = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  close(ns);
  Tally tally;
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < o.threads; ++i) {
    int width = o.concurrency / o.threads + (i < o.concurrency % o.threads ? 1 : 0);
    threads.emplace_back([&, width] { Loop(o, tally, width).run(); });
  }
  for (auto& t : threads) t.join();
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf(
      "{\"protocol\": \"%s\", \"threads\": %d, \"concurrency\": %d, \"count\": %d, \"replies\": %d, "
      "\"timeouts\": %d, \"errors\": %d, \"seconds\": %.3f, \"rate\": %.0f}\n",
      o.udp ? "udp" : "tcp", o.threads, o.concurrency, o.count, tally.replies.load(), tally.timeouts.load(),
      tally.errors.load(), s, o.count / s);
  return tally.replies.load() == o.count ? 0 : 1;
}
