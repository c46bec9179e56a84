// The traffic engine on its own: two namespaces joined by a veth, echo servers
// in one, probes from the other; every outcome class is produced for real.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "harness/traffic/echo_server.h"
#include "harness/traffic/prober.h"
#include "netns/address.h"
#include "netns/link.h"
#include "harness/topology/topology.h"
#include "netns/process.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using kpath::Cidr;
using kpath::Ip;
using netns::Namespace;

std::string nft_input_rule(const std::string& rule) {
  return "table inet t {\n  chain in {\n    type filter hook input priority 0;\n    " + rule + "\n  }\n}\n";
}

class ProberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KPATH_REQUIRE_NET_ADMIN();
    client_ = Namespace::create();
    server_ = Namespace::create();
    for (auto* ns : {&client_, &server_}) prepare_namespace(*ns);
    netns::create_veth(client_, "eth0", server_, "eth0");
    netns::add_address(client_, "eth0", Cidr::from("198.18.0.1/24"));
    netns::add_address(server_, "eth0", Cidr::from("198.18.0.2/24"));
    netns::set_up(client_, "eth0");
    netns::set_up(server_, "eth0");
    netns::wait_until_up(client_, {"eth0"});
    netns::wait_until_up(server_, {"eth0"});
    servers_.listen(server_, "backend-a", 8080, Protocol::TCP);
    servers_.listen(server_, "backend-a", 8053, Protocol::UDP);
    servers_.start();
  }

  std::map<Outcome, int> outcomes(const ProbeSpec& spec) {
    std::map<Outcome, int> out;
    for (const auto& r : run_probes(client_, spec)) out[r.outcome]++;
    return out;
  }

  ProbeSpec spec(const char* ip, uint16_t port, Protocol p, int count) {
    ProbeSpec s;
    s.target = Ip::from(ip);
    s.port = port;
    s.protocol = p;
    s.count = count;
    s.timeout = std::chrono::milliseconds(300);
    return s;
  }

  Namespace client_, server_;
  EchoServers servers_;
};

TEST_F(ProberTest, TcpReplyNamesTheBackendAndThePeer) {
  auto results = run_probes(client_, spec("198.18.0.2", 8080, Protocol::TCP, 500));
  ASSERT_EQ(results.size(), 500u);
  for (const auto& r : results) {
    ASSERT_EQ(r.outcome, Outcome::Reply) << to_string(r.outcome) << " errno " << r.error;
    EXPECT_EQ(r.reply.backend, "backend-a");
    EXPECT_EQ(r.reply.peer, Ip::from("198.18.0.1"));
    EXPECT_EQ(r.reply.local, Ip::from("198.18.0.2"));
    EXPECT_EQ(r.reply.local_port, 8080);
  }
}

TEST_F(ProberTest, UdpReplyComesFromTheAddressItWasSentTo) {
  auto results = run_probes(client_, spec("198.18.0.2", 8053, Protocol::UDP, 300));
  for (const auto& r : results) {
    ASSERT_EQ(r.outcome, Outcome::Reply) << to_string(r.outcome);
    EXPECT_EQ(r.reply.local, Ip::from("198.18.0.2"));
    EXPECT_EQ(r.reply.peer, Ip::from("198.18.0.1"));
  }
}

TEST_F(ProberTest, NothingListeningIsRefusedForTcpAndUdp) {
  EXPECT_EQ(outcomes(spec("198.18.0.2", 9999, Protocol::TCP, 20)), (std::map<Outcome, int>{{Outcome::Refused, 20}}));
  EXPECT_EQ(outcomes(spec("198.18.0.2", 9999, Protocol::UDP, 20)), (std::map<Outcome, int>{{Outcome::Refused, 20}}));
}

TEST_F(ProberTest, DroppedPacketsTimeOut) {
  auto r = netns::run_process(server_, {"nft", "-f", "/dev/stdin"}, nft_input_rule("tcp dport 8080 drop"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(outcomes(spec("198.18.0.2", 8080, Protocol::TCP, 10)), (std::map<Outcome, int>{{Outcome::Timeout, 10}}));
}

std::string nft_output_rule(const std::string& rule) {
  return "table inet t {\n  chain out {\n    type filter hook output priority 0;\n    " + rule + "\n  }\n}\n";
}

// The sender's own output hook dropping a datagram fails its send at once
// (EPERM): an outcome of its own, not a timeout. A TCP SYN dropped there is
// retransmitted silently, so that probe times out.
TEST_F(ProberTest, ADropOnTheSendersOutputIsAnOutputDropForUdpAndATimeoutForTcp) {
  auto r = netns::run_process(client_, {"nft", "-f", "/dev/stdin"}, nft_output_rule("ip daddr 198.18.0.2 drop"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto udp = run_probes(client_, spec("198.18.0.2", 8053, Protocol::UDP, 10));
  for (const auto& p : udp) {
    EXPECT_EQ(p.outcome, Outcome::OutputDrop) << to_string(p.outcome);
    EXPECT_EQ(p.error, EPERM);
    EXPECT_LT(p.latency, std::chrono::milliseconds(300)) << "EPERM comes at once, not at the timeout";
  }
  EXPECT_EQ(outcomes(spec("198.18.0.2", 8080, Protocol::TCP, 5)), (std::map<Outcome, int>{{Outcome::Timeout, 5}}));
}

TEST_F(ProberTest, RejectWithHostUnreachableIsUnreachable) {
  auto r = netns::run_process(server_, {"nft", "-f", "/dev/stdin"},
                              nft_input_rule("tcp dport 8080 reject with icmp type host-unreachable"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(outcomes(spec("198.18.0.2", 8080, Protocol::TCP, 10)),
            (std::map<Outcome, int>{{Outcome::Unreachable, 10}}));
}

TEST_F(ProberTest, TcpResetIsReset) {
  auto r = netns::run_process(server_, {"nft", "-f", "/dev/stdin"},
                              nft_input_rule("tcp dport 8080 tcp flags & (syn|ack) == ack reject with tcp reset"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The handshake completes in the kernel (SYN passes), then the first ACK
  // is answered with RST before the server can reply.
  auto got = outcomes(spec("198.18.0.2", 8080, Protocol::TCP, 10));
  EXPECT_EQ(got[Outcome::Reset], 10);
}

TEST_F(ProberTest, NoRouteIsUnreachable) {
  EXPECT_EQ(outcomes(spec("10.200.0.1", 80, Protocol::TCP, 5)), (std::map<Outcome, int>{{Outcome::Unreachable, 5}}));
}

TEST_F(ProberTest, ConcurrencyIsBoundedAndEveryProbeIsAccounted) {
  auto s = spec("198.18.0.2", 8080, Protocol::TCP, 3000);
  s.concurrency = 7;
  auto results = run_probes(client_, s);
  EXPECT_EQ(results.size(), 3000u);
  EXPECT_EQ(std::count_if(results.begin(), results.end(), [](auto& r) { return r.outcome == Outcome::Reply; }), 3000);
}

// Two probing threads share one batch: each probe's result stays at its own
// index, whichever thread sent it (a sweep's targets alternate, so a result
// in the wrong place shows as the wrong outcome or port).
TEST_F(ProberTest, TwoThreadsKeepEveryProbeAtItsIndex) {
  auto s = spec("198.18.0.2", 0, Protocol::TCP, 3000);
  s.threads = 2;
  s.concurrency = 16;
  s.local_ports = true;
  s.targets = {{Ip::from("198.18.0.2"), 8080, Protocol::TCP},
               {Ip::from("198.18.0.2"), 9998, Protocol::TCP},
               {Ip::from("198.18.0.2"), 8053, Protocol::UDP}};
  std::atomic<int> progress{0};
  s.progress = &progress;
  auto results = run_probes(client_, s);
  ASSERT_EQ(results.size(), 3000u);
  EXPECT_EQ(progress.load(), 3000);
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (i % 3 == 1) {
      ASSERT_EQ(r.outcome, Outcome::Refused) << i;
      continue;
    }
    ASSERT_EQ(r.outcome, Outcome::Reply) << i << " " << to_string(r.outcome);
    EXPECT_EQ(r.reply.local_port, i % 3 == 0 ? 8080 : 8053) << i;
    EXPECT_EQ(r.local_port, r.reply.peer_port) << i;
  }
}

// A stop (SIGINT) ends a batch of dropped probes within a tick, each of which
// would otherwise wait out its timeout: only the finished ones come back.
TEST_F(ProberTest, StopEndsProbesInFlightAtOnce) {
  auto r = netns::run_process(server_, {"nft", "-f", "/dev/stdin"}, nft_input_rule("tcp dport 8080 drop"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = spec("198.18.0.2", 8080, Protocol::TCP, 192000);  // the most a case may ask for `dropped`
  s.timeout = std::chrono::milliseconds(400);
  s.concurrency = 128;
  std::atomic<bool> stop{false};
  s.stop = &stop;
  std::chrono::steady_clock::time_point stopped_at;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    stopped_at = std::chrono::steady_clock::now();
    stop = true;
  });
  auto results = run_probes(client_, s);
  auto returned_at = std::chrono::steady_clock::now();
  stopper.join();
  EXPECT_LT(returned_at - stopped_at, std::chrono::milliseconds(300));
  EXPECT_LT(results.size(), 192000u);
  for (const auto& p : results) EXPECT_EQ(p.outcome, Outcome::Timeout);
}

}  // namespace

namespace {

// A REJECT rule's refusal carries its ICMP error and sender; the stack's,
// where nothing listens, is a RST without one.
TEST_F(ProberTest, RefusalsSayWhoRefused) {
  auto r = netns::run_process(server_, {"nft", "-f", "/dev/stdin"}, nft_input_rule("tcp dport 9999 reject"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& p : run_probes(client_, spec("198.18.0.2", 9999, Protocol::TCP, 10))) {
    ASSERT_EQ(p.outcome, Outcome::Refused) << to_string(p.outcome);
    EXPECT_TRUE(p.refusal.icmp);
    EXPECT_EQ(p.refusal.from, Ip::from("198.18.0.2"));
    EXPECT_EQ(p.refusal.str(), "ICMP port-unreachable from 198.18.0.2");
  }
  for (const auto& p : run_probes(client_, spec("198.18.0.2", 9998, Protocol::TCP, 10))) {
    ASSERT_EQ(p.outcome, Outcome::Refused) << to_string(p.outcome);
    EXPECT_FALSE(p.refusal.icmp);
    EXPECT_EQ(p.refusal.str(), "TCP RST");
  }
}

// Asked to, a probe records its own source port, which a backend sees
// unchanged without NAT; unasked, it leaves it at 0 (one syscall less).
TEST_F(ProberTest, ProbesRecordTheirOwnSourcePortWhenAsked) {
  ProbeSpec asked = spec("198.18.0.2", 8080, Protocol::TCP, 20);
  asked.local_ports = true;
  for (const auto& p : run_probes(client_, asked)) {
    ASSERT_EQ(p.outcome, Outcome::Reply);
    EXPECT_NE(p.local_port, 0);
    EXPECT_EQ(p.local_port, p.reply.peer_port);
  }
  for (const auto& p : run_probes(client_, spec("198.18.0.2", 8080, Protocol::TCP, 20))) {
    ASSERT_EQ(p.outcome, Outcome::Reply);
    EXPECT_EQ(p.local_port, 0);
  }
}

// The topology's sink answers as kSinkBackend: such a reply is a leak.
TEST_F(ProberTest, ASinkAnswerIsALeak) {
  EchoServers sink;
  sink.listen(server_, kSinkBackend, 8081, Protocol::TCP);
  sink.start();
  for (const auto& p : run_probes(client_, spec("198.18.0.2", 8081, Protocol::TCP, 10))) {
    ASSERT_EQ(p.outcome, Outcome::Leaked) << to_string(p.outcome);
    EXPECT_EQ(p.reply.local, Ip::from("198.18.0.2"));
  }
}

// kube-proxy's health server, stood in for: HTTP 200 with the count while
// the node has local endpoints, 503 when it has none, read at each request.
TEST_F(ProberTest, HealthCheckAnswersWithTheLocalEndpointCount) {
  auto count = std::make_shared<std::atomic<int>>(2);
  EchoServers health;
  health.listen_health(server_, 10256, HealthCheck{"default", "web", count});
  health.start();
  ProbeSpec s = spec("198.18.0.2", 10256, Protocol::TCP, 5);
  s.http_request = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  for (const auto& p : run_probes(client_, s)) {
    ASSERT_EQ(p.outcome, Outcome::Reply) << to_string(p.outcome);
    EXPECT_EQ(p.http_status, 200);
    EXPECT_EQ(p.http_body, R"({"service":{"namespace":"default","name":"web"},"localEndpoints":2})");
  }
  count->store(0);
  for (const auto& p : run_probes(client_, s)) {
    ASSERT_EQ(p.outcome, Outcome::Reply) << to_string(p.outcome);
    EXPECT_EQ(p.http_status, 503);
    EXPECT_THAT(p.http_body, ::testing::HasSubstr(R"("localEndpoints":0)"));
  }
}

}  // namespace
