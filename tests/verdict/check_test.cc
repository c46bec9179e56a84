// The checks, without a kernel: synthetic probe results for a flow resolved
// from a case snippet, judged into a status and a message. Each row asserts
// both, since the message is what a user reads when the kernel misbehaves.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <string>
#include <vector>

#include "harness/verdict/check.h"
#include "verdict/case_snippet.h"

namespace {

using namespace harness;
using kpath_test::make_case;
using kpath_test::web_service;
using ::testing::HasSubstr;
using ::testing::Not;

using Probes = std::vector<ProbeResult>;

const char* const kNodeA_ = "192.168.10.1";
Probes operator+(Probes a, const Probes& b);

// n replies from `backend`, which saw the connection come from `peer`.
Probes replies(const std::string& backend, int n, const std::string& peer) {
  ProbeResult p;
  p.outcome = Outcome::Reply;
  p.reply.backend = backend;
  p.reply.peer = Ip::from(peer);
  return Probes(n, p);
}

Probes outcomes(Outcome o, int n) {
  ProbeResult p;
  p.outcome = o;
  return Probes(n, p);
}

// n answers of the sink, reached on `address`: the flow left the node un-NATed.
Probes leaks(const std::string& address, int n) {
  ProbeResult p;
  p.outcome = Outcome::Leaked;
  p.reply.backend = kSinkBackend;
  p.reply.local = Ip::from(address);
  return Probes(n, p);
}

// n refusals: by an ICMP port-unreachable from `from`, or (empty) by a RST.
Probes refusals(int n, const std::string& from = "") {
  ProbeResult p;
  p.outcome = Outcome::Refused;
  if (!from.empty()) p.refusal = Refusal{true, Ip::from(from), 3, 3, AF_INET};
  return Probes(n, p);
}

// n HTTP answers with `status`.
Probes http(int status, int n) {
  ProbeResult p;
  p.outcome = Outcome::Reply;
  p.http_status = status;
  p.http_body = R"({"localEndpoints":0})";
  return Probes(n, p);
}

// n masqueraded replies from `backend`; `kept` of them kept the client's port.
Probes masqueraded(const std::string& backend, int n, int kept) {
  Probes out = replies(backend, n, kNodeA_);
  for (int i = 0; i < n; ++i) {
    out[i].local_port = static_cast<uint16_t>(40000 + i);
    out[i].reply.peer_port = static_cast<uint16_t>(i < kept ? 40000 + i : 1024 + 7 * i);
  }
  return out;
}

// Paced pairs for `affinity: expires`: each pair two replies of one backend.
Probes pairs(const std::vector<std::string>& backends) {
  Probes out;
  for (const auto& b : backends) out = out + replies(b, 2, "10.244.1.20");
  return out;
}

// `sources:` probes in turn: round r of probe i from client i answers with
// picks[r][i], each seen from node-a (masqueraded).
Probes rounds(const std::vector<std::vector<std::string>>& picks) {
  Probes out;
  for (const auto& round : picks)
    for (const auto& b : round) out = out + replies(b, 1, "192.168.10.1");
  return out;
}

// n clients' first picks spread evenly over web-a1, web-a2 and web-b, then
// every client's second answer from web-a1.
std::vector<std::vector<std::string>> first_even_then_a1(int n) {
  std::vector<std::string> first, second(n, "web-a1");
  const char* const pods[] = {"web-a1", "web-a2", "web-b"};
  for (int i = 0; i < n; ++i) first.push_back(pods[i % 3]);
  return {first, second};
}

Probes operator+(Probes a, const Probes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The client's and node-a's addresses, as a backend sees them.
const std::string kClient = "192.168.10.100";
const std::string kNodeA = "192.168.10.1";
const std::string kPodB = "10.244.1.20";  // client-b

struct CheckRow {
  std::string name;
  std::string objects;
  std::string expect;  // the expectation's flow-style body
  Probes results;
  Status status;
  std::vector<std::string> summary;      // substrings of the one-line summary
  std::vector<std::string> detail = {};  // substrings of the failure table
  std::vector<std::string> absent = {};  // substrings the summary must not have
};

std::ostream& operator<<(std::ostream& os, const CheckRow& r) { return os << r.name; }

const std::string kItpLocal = "      internalTrafficPolicy: Local\n";

const std::string kShortAffinity =
    "      sessionAffinity: ClientIP\n      sessionAffinityConfig: {clientIP: {timeoutSeconds: 2}}\n";

const std::vector<CheckRow> kChecks = {
    {"uniform replies pass with their p-value",
     web_service(),
     "from: client, to: node-a:30080, backends: uniform, probes: 300",
     replies("web-a1", 100, kNodeA) + replies("web-a2", 100, kNodeA) + replies("web-b", 100, kNodeA),
     Status::Pass,
     {"300/300 answered (p = 1)"}},
    {"a backend that got no probe fails by name",
     web_service(),
     "from: client, to: node-a:30080, backends: uniform, probes: 300",
     replies("web-a1", 150, kNodeA) + replies("web-a2", 150, kNodeA),
     Status::Fail,
     {"300/300 answered; web-b got no probe"},
     {"web-b", "100.0", "chi-square (2 df): p = "}},
    // ITP Local: from client-b only web-b may answer.
    {"a backend that is not eligible answering fails",
     web_service(kItpLocal),
     "from: client-b, to: default/web:80, backends: uniform",
     replies("web-b", 190, kPodB) + replies("web-a1", 10, kPodB),
     Status::Fail,
     {"web-a1 was not expected but got 10 probes"},
     {"web-a1", "0.0", "p = 0"}},
    {"answers where no endpoint is eligible fail",
     web_service(kItpLocal),
     "from: client-c, to: default/web:80, backends: uniform",
     replies("web-a1", 200, "10.244.2.20"),
     Status::Fail,
     {"no endpoint is eligible for this flow, yet probes were answered"},
     {"web-a1", "200"}},
    {"a weighted split that fits passes",
     web_service(),
     "from: client, to: node-a:30080, backends: {web-a1: 3, web-b: 1}, probes: 400",
     replies("web-a1", 300, kNodeA) + replies("web-b", 100, kNodeA),
     Status::Pass,
     {"400/400 answered (p = 1)"}},
    {"an even split against 3:1 weights fails",
     web_service(),
     "from: client, to: node-a:30080, backends: {web-a1: 3, web-b: 1}, probes: 400",
     replies("web-a1", 200, kNodeA) + replies("web-b", 200, kNodeA),
     Status::Fail,
     {"got 200 of 400 probes where", "exact binomial"},
     {"300.0", "100.0"}},
    {"one-of within the set passes without a distribution test",
     web_service(),
     "from: client, to: node-a:30080, backends: {one-of: [web-a1, web-a2]}",
     replies("web-a1", 180, kNodeA) + replies("web-a2", 20, kNodeA),
     Status::Pass,
     {"200/200 answered"},
     {},
     {"p ="}},
    {"one-of with an outsider fails by name",
     web_service(),
     "from: client, to: node-a:30080, backends: {one-of: [web-a1, web-a2]}",
     replies("web-a1", 197, kNodeA) + replies("web-b", 3, kNodeA),
     Status::Fail,
     {"web-b answered 3 probes but is not one of the expected backends"},
     {"web-a1", "197"}},
    {"sticky to one backend passes",
     web_service("      sessionAffinity: ClientIP\n"),
     "from: client, to: node-a:30080, backends: sticky",
     replies("web-b", 200, kNodeA),
     Status::Pass,
     {"200/200 answered"}},
    {"sticky broken fails with both backends",
     web_service("      sessionAffinity: ClientIP\n"),
     "from: client, to: node-a:30080, backends: sticky",
     replies("web-a1", 199, kNodeA) + replies("web-b", 1, kNodeA),
     Status::Fail,
     {"session affinity broken: one client reached web-a1 (199x), web-b (1x)"},
     {"web-a1", "199"}},
    {"many clients each keeping their first pick pass",
     web_service("      sessionAffinity: ClientIP\n"),
     "from: client, to: node-a:30080, backends: sticky, sources: 4, probes: 8",
     rounds({{"web-a1", "web-b", "web-a1", "web-a2"}, {"web-a1", "web-b", "web-a1", "web-a2"}}),
     Status::Pass,
     {"8/8 answered", "each of 4 clients kept one backend"}},
    {"one of many clients changing backend fails and is named",
     web_service("      sessionAffinity: ClientIP\n"),
     "from: client, to: node-a:30080, backends: sticky, sources: 4, probes: 8",
     rounds({{"web-a1", "web-b", "web-a1", "web-a2"}, {"web-a1", "web-b", "web-a2", "web-a2"}}),
     Status::Fail,
     {"session affinity broken for 1 of 4 clients: 172.16.96.3 reached web-a1 (1x), web-a2 (1x)"}},
    // With affinity a client's later answers repeat its first pick, so only
    // the first picks are independent draws.
    {"with affinity the spread is judged on each client's first pick",
     web_service("      sessionAffinity: ClientIP\n"),
     "from: client, to: node-a:30080, backends: uniform, sources: 30, probes: 60",
     rounds(first_even_then_a1(30)),
     Status::Pass,
     {"60/60 answered", "over 30 clients' first picks"}},
    {"without affinity every answer of many clients counts",
     web_service(),
     "from: client, to: node-a:30080, backends: uniform, sources: 30, probes: 60",
     rounds(first_even_then_a1(30)),
     Status::Fail,
     {"web-a1 got 40 of 60 probes where 20.0 were expected"}},
    {"a masqueraded source passes",
     web_service(),
     "from: client, to: node-a:30080, source: node",
     replies("web-b", 200, kNodeA),
     Status::Pass,
     {"200/200 answered"}},
    // Any node's address will do: a flow may leave through another node.
    {"another node's address counts as masqueraded",
     web_service(),
     "from: client, to: node-a:30080, source: node",
     replies("web-b", 200, "192.168.10.2"),
     Status::Pass,
     {"200/200 answered"}},
    // Masquerade picks a node's primary IPv4 address: a secondary one seen by
    // the backend is the node's own source, never rewritten.
    {"a node's secondary IPv4 address is not masqueraded",
     web_service(),
     "from: node-b/192.168.10.12, to: node-a:30080, source: node",
     replies("web-b", 200, "192.168.10.12"),
     Status::Fail,
     {"source not masqueraded: backends saw 192.168.10.12 (200x) instead of a node address "
      "(192.168.10.1, 192.168.10.2, 192.168.10.3)"}},
    {"the client's address where the node's was wanted",
     web_service(),
     "from: client, to: node-a:30080, source: node",
     replies("web-b", 150, kClient) + replies("web-b", 50, kNodeA),
     Status::Fail,
     {"source not masqueraded: backends saw 192.168.10.100 (150x) instead of a node address "
      "(192.168.10.1, 192.168.10.2, 192.168.10.3)"}},
    {"a preserved source passes",
     web_service(),
     "from: client-b, to: default/web:80, source: client",
     replies("web-a1", 200, kPodB),
     Status::Pass,
     {"200/200 answered"}},
    {"a node's address where the client's was wanted",
     web_service(),
     "from: client-b, to: default/web:80, source: client",
     replies("web-a1", 200, "192.168.10.2"),
     Status::Fail,
     {"source not preserved: backends saw 192.168.10.2 (200x) instead of the client's 10.244.1.20"}},
    {"refused as expected",
     web_service(),
     "from: client, to: node-a:30081, result: refused",
     outcomes(Outcome::Refused, 20),
     Status::Pass,
     {"20/20 refused"}},
    {"refused expected, some dropped",
     web_service(),
     "from: client, to: node-a:30081, result: refused",
     outcomes(Outcome::Refused, 15) + outcomes(Outcome::Timeout, 5),
     Status::Fail,
     {"expected refused, observed 15 refused, 5 timeout"}},
    {"dropped as expected",
     web_service(),
     "from: client, to: node-a:30081, result: dropped",
     outcomes(Outcome::Timeout, 20),
     Status::Pass,
     {"20/20 dropped (timed out)"}},
    {"dropped expected, but a backend answered",
     web_service(),
     "from: client, to: node-a:30080, result: dropped",
     replies("web-b", 2, kNodeA) + outcomes(Outcome::Timeout, 18),
     Status::Fail,
     {"expected dropped, observed 2 reply, 18 timeout"},
     {"web-b", "2"}},
    {"reachable expected, some refused",
     web_service(),
     "from: client, to: node-a:30080",
     replies("web-a1", 190, kNodeA) + outcomes(Outcome::Refused, 10),
     Status::Fail,
     {"expected reachable, observed 190 reply, 10 refused"},
     {"web-a1", "190"}},
    {"reachable expected, nothing answered",
     web_service(),
     "from: client, to: node-a:30080, backends: uniform",
     outcomes(Outcome::Timeout, 200),
     Status::Fail,
     {"expected reachable, observed 200 timeout"},
     {},
     {"got no probe"}},
    {"dropped expected, leaked to the sink: says where",
     web_service("      externalIPs: [203.0.113.7]\n"),
     "from: client, to: 203.0.113.7:80, result: dropped",
     leaks("203.0.113.7", 20),
     Status::Fail,
     {"expected dropped, observed 20 leaked; leaked to 203.0.113.7 (20x) un-NATed"}},
    {"leaked as expected names the address",
     web_service(),
     "from: client-a, to: 10.96.99.99:80, result: leaked",
     leaks("10.96.99.99", 10),
     Status::Pass,
     {"10/10 leaked to 10.96.99.99 (10x) un-NATed"}},
    {"dropped on the sender's output passes a plain dropped, and says so",
     web_service(),
     "from: client, to: node-a:30081, protocol: UDP, result: dropped",
     outcomes(Outcome::OutputDrop, 20),
     Status::Pass,
     {"20/20 dropped on the sender's output (EPERM)"}},
    {"drops of both kinds pass without droppedAt, counted apart",
     web_service(),
     "from: client, to: node-a:30081, protocol: UDP, result: dropped",
     outcomes(Outcome::OutputDrop, 5) + outcomes(Outcome::Timeout, 15),
     Status::Pass,
     {"20/20 dropped (5 on the sender's output (EPERM), 15 timed out)"}},
    {"dropped on the sender's output, as droppedAt: output wants",
     web_service(),
     "from: client, to: node-a:30081, protocol: UDP, result: dropped, droppedAt: output",
     outcomes(Outcome::OutputDrop, 20),
     Status::Pass,
     {"20/20 dropped on the sender's output (EPERM)"}},
    {"timed out where droppedAt: output wants EPERM",
     web_service(),
     "from: client, to: node-a:30081, protocol: UDP, result: dropped, droppedAt: output",
     outcomes(Outcome::Timeout, 20),
     Status::Fail,
     {"timed out in 20 of 20 dropped probes, expected a drop on the sender's output (EPERM at once)"}},
    {"EPERM where droppedAt: path wants silence",
     web_service(),
     "from: client, to: node-a:30081, protocol: UDP, result: dropped, droppedAt: path",
     outcomes(Outcome::OutputDrop, 4) + outcomes(Outcome::Timeout, 16),
     Status::Fail,
     {"dropped on the sender's output (EPERM) in 4 of 20 dropped probes, expected a drop on the path (a timeout)"}},
    {"a drop on the sender's output where a reply was wanted is named",
     web_service(),
     "from: client, to: node-a:30080",
     outcomes(Outcome::OutputDrop, 20),
     Status::Fail,
     {"expected reachable, observed 20 output-drop"}},
    {"refused by a rule, as refusedBy: rule wants",
     web_service(),
     "from: client, to: node-a:30081, result: refused, refusedBy: rule",
     refusals(10, kNodeA_),
     Status::Pass,
     {"10/10 refused by ICMP port-unreachable from 192.168.10.1 (10x)"}},
    {"refused by the stack where a rule was wanted",
     web_service(),
     "from: client, to: node-a:30081, result: refused, refusedBy: rule",
     refusals(10),
     Status::Fail,
     {"refused by the node's stack (TCP RST) in 10 of 10 probes, expected a REJECT rule's ICMP error"}},
    {"refused by a rule where the stack was wanted",
     web_service(),
     "from: client, to: node-a:30081, result: refused, refusedBy: stack",
     refusals(3, kNodeA_) + refusals(7),
     Status::Fail,
     {"refused by a rule (", "in 3 of 10 probes, expected the node's stack (TCP RST)"}},
    {"refusals of either kind pass without refusedBy",
     web_service(),
     "from: client, to: node-a:30081, result: refused",
     refusals(3, kNodeA_) + refusals(7),
     Status::Pass,
     {"10/10 refused by ICMP port-unreachable from 192.168.10.1 (3x), TCP RST (7x)"}},
    {"refused from the node refusedAt names",
     web_service(),
     "from: client, to: node-a:30081, result: refused, refusedAt: node-b",
     refusals(10, "192.168.10.2"),
     Status::Pass,
     {"10/10 refused by ICMP port-unreachable from 192.168.10.2 (10x)"}},
    {"refused from another node than refusedAt names",
     web_service(),
     "from: client, to: node-a:30081, result: refused, refusedAt: node-b",
     refusals(4, "192.168.10.2") + refusals(6, kNodeA_),
     Status::Fail,
     {"refused by ICMP port-unreachable from 192.168.10.1 (6x) in 6 of 10 probes, expected an ICMP error from "
      "node-b (192.168.10.2, 192.168.10.12)"}},
    {"a RST cannot show refusedAt's node",
     web_service(),
     "from: client, to: node-a:30081, result: refused, refusedAt: node-a",
     refusals(10),
     Status::Fail,
     {"refused by TCP RST (10x) in 10 of 10 probes, expected an ICMP error from node-a (192.168.10.1)"}},
    {"HTTP status as expected",
     web_service(),
     "from: client, to: node-a:30080, httpStatus: 503",
     http(503, 20),
     Status::Pass,
     {"20/20 answered, HTTP 503"}},
    {"HTTP status other than expected",
     web_service(),
     "from: client, to: node-a:30080, httpStatus: 200",
     http(503, 20),
     Status::Fail,
     {"answered HTTP 503 ({\"localEndpoints\":0}) (20x), expected HTTP 200"}},
    {"randomised source ports pass",
     web_service(),
     "from: client, to: node-a:30080, sourcePorts: random",
     masqueraded("web-b", 600, 0),
     Status::Pass,
     {"source port kept in 0/600 masqueraded"}},
    {"kept source ports fail as not randomised",
     web_service(),
     "from: client, to: node-a:30080, sourcePorts: random",
     masqueraded("web-b", 600, 590),
     Status::Fail,
     {"source ports not randomised: backends saw the client's own source port in 590 of 600 masqueraded replies"}},
    {"sourcePorts random with nothing masqueraded fails",
     web_service(),
     "from: client, to: node-a:30080, sourcePorts: random",
     replies("web-b", 50, kClient),
     Status::Fail,
     {"no reply was masqueraded"}},
    {"affinity that expires passes",
     web_service(kShortAffinity),
     "from: client-b, to: default/web:80, affinity: expires, probes: 4",
     pairs({"web-a1", "web-b", "web-b", "web-a2"}),
     Status::Pass,
     {"affinity expired (2 new picks in 4 pairs)"}},
    {"a pair split within half the timeout fails",
     web_service(kShortAffinity),
     "from: client-b, to: default/web:80, affinity: expires, probes: 2",
     replies("web-a1", 1, kPodB) + replies("web-b", 1, kPodB) + pairs({"web-b"}),
     Status::Fail,
     {"session affinity did not last its timeout: web-a1 then web-b within 1 s (timeoutSeconds 2)"}},
    {"affinity that never expires fails",
     web_service(kShortAffinity),
     "from: client-b, to: default/web:80, affinity: expires, probes: 14",
     pairs(std::vector<std::string>(14, "web-b")),
     Status::Fail,
     {"session affinity never expired: 14 pairs", "all reached web-b"}},
    {"too few pairs to tell",
     web_service(kShortAffinity),
     "from: client-b, to: default/web:80, affinity: expires, probes: 3",
     pairs({"web-b", "web-b", "web-b"}),
     Status::Fail,
     {"too few pairs to tell: 3 pairs over 3 endpoints"}},
    {"an out-of-window segment that leaked is counted as reaching the client",
     web_service(),
     "from: client, to: node-a:30080, probe: out-of-window, result: reachable",
     replies("web-a1", 5, kNodeA),
     Status::Pass,
     {"5/5 reached the client"}},
};

class Checks : public ::testing::TestWithParam<CheckRow> {};

TEST_P(Checks, StatusAndMessage) {
  const CheckRow& row = GetParam();
  Case c = make_case(row.objects, row.expect);
  const Expectation& e = c.expect.at(0);
  Flow f = resolve_flow(c.cluster, e);
  CheckResult r = check_probes(c.cluster, e, f, e.result, row.results);
  EXPECT_EQ(to_string(r.status), to_string(row.status)) << r.summary;
  for (const auto& s : row.summary) EXPECT_THAT(r.summary, HasSubstr(s));
  for (const auto& s : row.detail) EXPECT_THAT(r.detail, HasSubstr(s));
  for (const auto& s : row.absent) EXPECT_THAT(r.summary, Not(HasSubstr(s)));
  if (row.status == Status::Pass) {
    EXPECT_EQ(r.detail, "");
  }
}

std::string test_name(const ::testing::TestParamInfo<CheckRow>& info) {
  std::string out;
  bool upper = true;
  for (char ch : info.param.name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
    upper = false;
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Rows, Checks, ::testing::ValuesIn(kChecks), test_name);

// The counts behind the message: per backend and per outcome, and the
// distribution test's p-value and false-failure rate.
TEST(CheckCounts, BackendsOutcomesAndPValue) {
  Case c = make_case(web_service(), "from: client, to: node-a:30080, backends: uniform, falseFailureRate: 1e-4");
  const Expectation& e = c.expect.at(0);
  Probes results = replies("web-a1", 70, kNodeA) + replies("web-a2", 60, kNodeA) + replies("web-b", 70, kNodeA) +
                   outcomes(Outcome::Timeout, 3);
  CheckResult r = check_probes(c.cluster, e, resolve_flow(c.cluster, e), Verdict::Reachable, results);
  EXPECT_EQ(r.backends, (std::map<std::string, uint64_t>{{"web-a1", 70}, {"web-a2", 60}, {"web-b", 70}}));
  EXPECT_EQ(r.outcomes, (std::map<Outcome, int>{{Outcome::Reply, 200}, {Outcome::Timeout, 3}}));
  EXPECT_EQ(r.status, Status::Fail);  // the timeouts, not the spread
  EXPECT_GT(r.p_value, 0.5);
  EXPECT_DOUBLE_EQ(r.alpha, 1e-4);
  // The spread is still tested on the replies that came.
  EXPECT_EQ(r.summary, "expected reachable, observed 200 reply, 3 timeout (p = 0.61)");
}

// An IPv6 node sending from a secondary address: masquerade rewrites it to
// the address the kernel's source selection prefers (here the ULA primary,
// for a ULA pod), so the backend seeing the secondary address means no
// rewrite, while another address of the node passes. IPv6 node addresses are
// otherwise all "node" (any may be picked), the sender's primary included.
TEST(CheckSource, AnIpv6NodesSecondaryAddressSeenIsNotMasqueraded) {
  Case c = parse_case(
      "apiVersion: kpath/v1\nkind: Case\nname: t\ncluster:\n"
      "  podCIDR: fd00:10:244::/56\n  serviceCIDR: fd00:10:96::/112\n  nodes:\n"
      "    - name: node-a\n      ip: 2001:db8:a::1\n      pods:\n"
      "        - {name: web, ip: fd00:10:244::a, labels: {app: web}, listen: [{port: 8080}]}\n"
      "    - name: node-b\n      ips: [fd00:ab::2, 2001:db8:a::16]\n"
      "objects:\n" +
          std::string("  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n    spec:\n"
                      "      type: NodePort\n      clusterIP: fd00:10:96::5\n      selector: {app: web}\n"
                      "      ports: [{port: 80, targetPort: 8080, nodePort: 30080}]\n") +
          "expect:\n"
          "  - {from: node-b/2001:db8:a::16, to: node-b:30080, source: node}\n"
          "  - {from: node-b/fd00:ab::2, to: node-b:30080, source: node}\n",
      "t.yaml");
  auto judge = [&](int i, const std::string& peer) {
    const Expectation& e = c.expect.at(i);
    return check_probes(c.cluster, e, resolve_flow(c.cluster, e), Verdict::Reachable, replies("web", 20, peer));
  };
  EXPECT_EQ(judge(0, "fd00:ab::2").status, Status::Pass);
  EXPECT_EQ(judge(0, "2001:db8:a::1").status, Status::Pass) << "another node's address";
  CheckResult unrewritten = judge(0, "2001:db8:a::16");
  EXPECT_EQ(unrewritten.status, Status::Fail);
  EXPECT_THAT(unrewritten.summary, HasSubstr("source not masqueraded: backends saw 2001:db8:a::16 (20x)"));
  EXPECT_EQ(judge(1, "fd00:ab::2").status, Status::Pass) << "a primary address is its own masquerade";
  EXPECT_EQ(judge(1, "2001:db8:a::16").status, Status::Pass) << "sent from the primary, a secondary is a rewrite";
}

// The verdict a generator must produce: by design per generator name, else
// per kube-proxy mode, else the expectation's own.
struct VerdictRow {
  std::string name;
  std::string expect;
  std::string generator;
  ProxyMode mode;
  Verdict want;
};

TEST(ExpectedVerdict, ExceptByNameAndByMode) {
  const std::string to = "from: client, to: node-a:30080, ";
  const std::vector<VerdictRow> rows = {
      {"no except: the expectation's result", to + "result: refused", "kube-iptables", ProxyMode::Iptables,
       Verdict::Refused},
      {"except by name", to + "except: {kube-iptables: refused}", "kube-iptables", ProxyMode::Iptables,
       Verdict::Refused},
      {"another generator's name does not apply", to + "except: {kube-iptables: refused}", "kube-nftables",
       ProxyMode::Nftables, Verdict::Reachable},
      {"except by mode", to + "except: {nftables: dropped}", "kube-nftables", ProxyMode::Nftables, Verdict::Dropped},
      {"a mode key covers any generator of that mode", to + "except: {nftables: dropped}", "exec:./my-proxy",
       ProxyMode::Nftables, Verdict::Dropped},
      {"another mode's key does not apply", to + "except: {nftables: dropped}", "kube-iptables", ProxyMode::Iptables,
       Verdict::Reachable},
      {"the name wins over the mode", to + "except: {iptables: refused, kube-iptables: dropped}", "kube-iptables",
       ProxyMode::Iptables, Verdict::Dropped},
      {"the mode applies to the other generators of it", to + "except: {iptables: refused, kube-iptables: dropped}",
       "ruleset:node.iptables-save", ProxyMode::Iptables, Verdict::Refused},
      {"mode None ignores mode keys", to + "except: {iptables: refused, nftables: dropped}",
       "ruleset:node.iptables-save", ProxyMode::None, Verdict::Reachable},
      {"mode None still takes its name", to + "except: {iptables: refused, 'ruleset:node.iptables-save': dropped}",
       "ruleset:node.iptables-save", ProxyMode::None, Verdict::Dropped},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    Case c = make_case(web_service(), row.expect);
    EXPECT_EQ(to_string(expected_verdict(c.expect.at(0), row.generator, row.mode)), to_string(row.want));
  }
}

}  // namespace
