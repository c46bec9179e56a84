#include "harness/traffic/out_of_window.h"

#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "base/error.h"
#include "base/errno.h"
#include "harness/traffic/socket_util.h"

namespace harness {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kMagic[] = "kpath-out-of-window";

uint16_t checksum(const uint8_t* data, size_t len, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (len % 2) sum += data[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// A TCP segment (ACK|PSH, payload kMagic) from src to dst with sequence `seq`.
std::string segment(const kpath::Ip& src, uint16_t sport, const kpath::Ip& dst, uint16_t dport, uint32_t seq) {
  std::string seg(sizeof(tcphdr) + sizeof kMagic - 1, '\0');
  auto* th = reinterpret_cast<tcphdr*>(seg.data());
  th->source = htons(sport);
  th->dest = htons(dport);
  th->seq = htonl(seq);
  th->doff = 5;
  th->ack = 1;
  th->psh = 1;
  th->window = htons(65535);
  std::memcpy(seg.data() + sizeof(tcphdr), kMagic, sizeof kMagic - 1);
  // The pseudo-header: IPv4's (RFC 793) or IPv6's (RFC 8200 8.1).
  const size_t bytes = src.bits() / 8;
  std::string pseudo;
  pseudo.append(reinterpret_cast<const char*>(src.data()), bytes);
  pseudo.append(reinterpret_cast<const char*>(dst.data()), bytes);
  const char len_hi = static_cast<char>(seg.size() >> 8), len_lo = static_cast<char>(seg.size() & 0xff);
  if (src.is_v4()) pseudo += std::string{'\0', static_cast<char>(IPPROTO_TCP), len_hi, len_lo};
  else pseudo += std::string{'\0', '\0', len_hi, len_lo, '\0', '\0', '\0', static_cast<char>(IPPROTO_TCP)};
  pseudo += seg;
  th->check = htons(checksum(reinterpret_cast<const uint8_t*>(pseudo.data()), pseudo.size()));
  return seg;
}

struct Capture {
  bool seen = false;
  kpath::Ip src;
  uint16_t sport = 0;
  uint32_t seq = 0;
  bool magic = false;
};

enum class Read { None, Other, Match };

// Reads one queued packet from a raw TCP socket: None when nothing is queued,
// Match when it is a TCP segment to dport (described in out), Other otherwise.
// An IPv4 raw socket hands over the IP header too; an IPv6 one the TCP
// segment alone, its source in the address.
Read read_tcp(int raw, int family, uint16_t dport, Capture& out) {
  uint8_t buf[2048];
  sockaddr_storage from{};
  socklen_t from_len = sizeof from;
  ssize_t n = ::recvfrom(raw, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &from_len);
  if (n < 0) return Read::None;
  size_t ihl = 0;
  if (family == AF_INET) {
    if (n < static_cast<ssize_t>(sizeof(iphdr))) return Read::Other;
    const auto* ip = reinterpret_cast<const iphdr*>(buf);
    ihl = ip->ihl * 4u;
    out.src = kpath::Ip::from_bytes(AF_INET, bytes_of(ip->saddr));
  } else {
    out.src = from_sockaddr(reinterpret_cast<const sockaddr*>(&from)).first;
  }
  if (n < static_cast<ssize_t>(ihl + sizeof(tcphdr))) return Read::Other;
  const auto* th = reinterpret_cast<const tcphdr*>(buf + ihl);
  if (ntohs(th->dest) != dport) return Read::Other;
  out.sport = ntohs(th->source);
  out.seq = ntohl(th->seq);
  size_t data = ihl + th->doff * 4u;
  out.magic = n > static_cast<ssize_t>(data) &&
              std::string(reinterpret_cast<char*>(buf + data), n - data).find(kMagic) != std::string::npos;
  out.seen = true;
  return Read::Match;
}

// The client's side: a raw socket that sees every TCP segment arriving, and
// one connection through the flow whose reply (and the server's sequence
// number) has been read; the connection stays open so conntrack keeps it.
struct ClientSide {
  kpath::Fd raw, conn;
  uint16_t port = 0;
  EchoReply reply;
  uint32_t server_seq = 0;
};

ClientSide connect_through(const ProbeSpec& spec) {
  ClientSide c;
  const int family = spec.target.family();
  c.raw = kpath::Fd(::socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP));
  c.conn = kpath::Fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!c.raw.valid() || !c.conn.valid()) kpath::throw_errno("out-of-window probe: socket");
  timeval tv{static_cast<time_t>(spec.timeout.count() / 1000),
             static_cast<suseconds_t>(spec.timeout.count() % 1000 * 1000)};
  setsockopt(c.conn.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c.conn.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  auto dst = make_sockaddr(spec.target, spec.port);
  if (::connect(c.conn.get(), dst.get(), dst.len) != 0) return c;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  getsockname(c.conn.get(), reinterpret_cast<sockaddr*>(&local), &len);
  c.port = from_sockaddr(reinterpret_cast<sockaddr*>(&local)).second;
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::recv(c.conn.get(), buf, sizeof buf, 0)) > 0;) text.append(buf, n);
  parse_reply(text, c.reply);
  // The server's data segment carries its sequence number.
  for (Read r = Read::Other; r != Read::None;) {
    Capture cap;
    r = read_tcp(c.raw.get(), family, c.port, cap);
    if (r == Read::Match && cap.sport == spec.port) c.server_seq = cap.seq;
  }
  return c;
}

}  // namespace

ProbeResult probe_out_of_window(const netns::Namespace& client, const ProbeSpec& spec,
                                const std::function<const netns::Namespace&(const std::string&)>& backend_ns) {
  ProbeResult result;
  auto start = Clock::now();
  ClientSide c = client.run([&] { return connect_through(spec); });
  if (c.reply.backend.empty()) {
    result.outcome = Outcome::Error;
    result.error = ECONNABORTED;
    return result;
  }
  // From the backend's namespace: its own address and port, to the peer it saw,
  // 2^30 bytes beyond anything in the window.
  backend_ns(c.reply.backend).run([&] {
    kpath::Fd raw(::socket(c.reply.local.family(), SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!raw.valid()) kpath::throw_errno("out-of-window probe: raw socket");
    // From the address the checksum was computed for, whatever the kernel would pick.
    auto self = make_sockaddr(c.reply.local, 0);
    if (::bind(raw.get(), self.get(), self.len) != 0) kpath::throw_errno("out-of-window probe: bind");
    std::string seg = segment(c.reply.local, c.reply.local_port, c.reply.peer, c.reply.peer_port,
                              c.server_seq + (1u << 30));
    auto dst = make_sockaddr(c.reply.peer, 0);
    if (::sendto(raw.get(), seg.data(), seg.size(), 0, dst.get(), dst.len) < 0)
      kpath::throw_errno("out-of-window probe: send");
  });
  // Did it reach the client?
  auto deadline = Clock::now() + spec.timeout;
  result.outcome = Outcome::Timeout;
  while (Clock::now() < deadline) {
    pollfd p{c.raw.get(), POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left))) <= 0) continue;
    Capture cap;
    if (read_tcp(c.raw.get(), spec.target.family(), c.port, cap) != Read::Match || !cap.magic) continue;
    result.outcome = Outcome::Reply;
    result.reply.backend = c.reply.backend;
    result.reply.peer = cap.src;  // the source the client saw: the backend's own address when it leaked
    result.reply.peer_port = cap.sport;
    break;
  }
  result.latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  return result;
}

}  // namespace harness
