// Mutation tests: a built-in generator with one deliberate mistake in its
// output must make the matching bundled behaviour case fail (not error), and
// the failing expectation must say why. Each mutation is a text edit of the
// generated rules, applied by a small decorator around the real generator.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "base/strings.h"
#include "harness/cases/case_loader.h"
#include "harness/run/runner.h"
#include "harness/generators/registry.h"
#include "support/privileges.h"

namespace {

using namespace harness;
using ::testing::HasSubstr;

using Lines = std::vector<std::string>;
using Mutation = std::function<Lines(const Lines&)>;

std::string join(const Lines& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A built-in generator whose output goes through `mutation` first. It keeps
// the built-in's name and mode, so the case's `except` entries and kube-proxy's
// conntrack cleanup apply as they do to the real generator.
class Mutated : public Generator {
 public:
  Mutated(const std::string& base, Mutation mutation) : Mutated(GeneratorSpec::parse(base, ""), std::move(mutation)) {}
  Mutated(const GeneratorSpec& base, Mutation mutation) : base_(make_generator(base)), mutation_(std::move(mutation)) {}

  std::string name() const override { return base_->name(); }
  ProxyMode mode() const override { return base_->mode(); }
  std::vector<std::string> needs(const Cluster& c) const override { return base_->needs(c); }
  bool needs_conntrack_cleanup() const override { return base_->needs_conntrack_cleanup(); }
  bool serves_health_checks() const override { return base_->serves_health_checks(); }

  RuleSet generate(const Cluster& cluster, const std::string& node) const override {
    RuleSet rules = base_->generate(cluster, node);
    std::string before = rules.text;
    rules.text = join(mutation_(kpath::split_lines(rules.text)));
    rules.origin_lines.clear();
    if (rules.text != before) ++changed_;
    return rules;
  }

  // How many generate() calls the mutation actually changed (a mutation that
  // matches nothing would prove nothing).
  int changed() const { return changed_; }

 private:
  std::unique_ptr<Generator> base_;
  Mutation mutation_;
  mutable std::atomic<int> changed_{0};
};

// Deletes every line matching `pattern`.
Mutation delete_lines(const std::string& pattern) {
  return [re = std::regex(pattern)](const Lines& in) {
    Lines out;
    for (const auto& l : in)
      if (!std::regex_search(l, re)) out.push_back(l);
    return out;
  };
}

const std::string kCases = std::string(KPATH_SOURCE_DIR) + "/cases/behaviours/";

// The run and the case it ran: a run's expectations point into its case.
struct Outcome {
  std::unique_ptr<Case> c;
  CaseRun run;
  int changed = 0;
};

Outcome run_mutated(const std::string& case_file, const std::string& base, Mutation mutation, RunOptions options = {}) {
  Outcome o;
  o.c = std::make_unique<Case>(load_case(kCases + case_file));
  Mutated generator(base, std::move(mutation));
  o.run = run_case(*o.c, generator, options);
  o.changed = generator.changed();
  return o;
}

std::string describe(const CaseRun& run) {
  std::string s = run.error;
  for (const auto& e : run.expectations)
    s += "\n" + to_string(e.check.status) + " " + e.expectation->name + ": " + e.check.summary;
  return s;
}

const CheckResult& expectation(const CaseRun& run, const std::string& name) {
  for (const auto& e : run.expectations)
    if (e.expectation->name == name) return e.check;
  static CheckResult missing;
  ADD_FAILURE() << "no expectation named '" << name << "' in the run:" << describe(run);
  return missing;
}

// B5: without the "has no local endpoints" DROP, outside traffic to a node
// without local endpoints falls through to the node's own stack and is refused.
TEST(Mutation, EtpLocalNoLocalEndpointDropMissingIsCaught) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b05-etp-local-no-local-endpoint.yaml", "kube-iptables",
                       delete_lines(R"(has no local endpoints.* -j DROP$)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  ASSERT_EQ(o.run.status, Status::Fail) << describe(o.run);
  const auto& check = expectation(o.run, "external TCP to node-b (no local endpoint) is dropped");
  EXPECT_EQ(check.status, Status::Fail);
  EXPECT_THAT(check.summary, HasSubstr("expected dropped, observed"));
  EXPECT_THAT(check.summary, HasSubstr("refused"));
}

// B3: without the endpoint chains' "-s <own IP> -j KUBE-MARK-MASQ", a pod that
// picks itself receives a packet from its own address and never answers.
TEST(Mutation, HairpinMasqueradeMissingIsCaught) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b03-hairpin.yaml", "kube-iptables",
                       delete_lines(R"(^-A KUBE-SEP-\S+ .* -s \S+ -j KUBE-MARK-MASQ$)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  ASSERT_EQ(o.run.status, Status::Fail) << describe(o.run);
  const auto& check = expectation(o.run,
                                  "the only endpoint reaches itself through its ClusterIP over TCP, masqueraded");
  EXPECT_EQ(check.status, Status::Fail);
  EXPECT_THAT(check.summary, HasSubstr("expected reachable, observed"));
  EXPECT_THAT(check.summary, HasSubstr("timeout"));
}

// B16: every statistic rule of a chain with the first rule's probability 1/n
// (instead of 1/(n-i)) skews the spread toward the last endpoint.
TEST(Mutation, ProbabilitiesOneOverNEverywhereAreCaught) {
  KPATH_REQUIRE_NET_ADMIN();
  Mutation same_probability = [](const Lines& in) {
    static const std::regex rule(R"(^-A (\S+) .*--probability (\S+))");
    std::map<std::string, std::string> first;  // chain -> its first probability
    Lines out;
    for (auto l : in) {
      std::smatch m;
      if (std::regex_search(l, m, rule)) {
        auto [it, fresh] = first.emplace(m[1].str(), m[2].str());
        if (!fresh) l.replace(m.position(2), m.length(2), it->second);
      }
      out.push_back(l);
    }
    return out;
  };
  auto o = run_mutated("b16-probabilities.yaml", "kube-iptables", same_probability);
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  ASSERT_EQ(o.run.status, Status::Fail) << describe(o.run);
  for (const char* name : {"three endpoints share an outside client's NodePort traffic evenly (TCP)",
                           "four endpoints share an outside client's NodePort traffic evenly (TCP)"}) {
    const auto& check = expectation(o.run, name);
    EXPECT_EQ(check.status, Status::Fail) << name << ": " << check.summary;
    EXPECT_THAT(check.summary, HasSubstr("answered")) << "every probe is still answered";
    EXPECT_THAT(check.detail, HasSubstr("p = ")) << "the distribution test rejects it";
    EXPECT_LT(check.p_value, 1e-6) << name;
  }
}

// B6: without the "has no endpoints" REJECT, a pod's packets to the ClusterIP
// leave the node un-NATed and reach the sink instead of a fast refusal.
TEST(Mutation, NoEndpointsRejectMissingIsCaught) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b06-no-endpoints.yaml", "kube-iptables", delete_lines(R"(has no endpoints.* -j REJECT)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  ASSERT_EQ(o.run.status, Status::Fail) << describe(o.run);
  const auto& check = expectation(o.run, "a pod's TCP to the ClusterIP is refused");
  EXPECT_EQ(check.status, Status::Fail);
  EXPECT_THAT(check.summary, HasSubstr("expected refused, observed 10 leaked"));
  EXPECT_THAT(check.summary, HasSubstr("leaked to 10.96.10.6 (10x) un-NATed"));
}

// B4: marking outside traffic for masquerade in an ETP Local external chain
// loses the client's address.
TEST(Mutation, EtpLocalMasqueradingOutsideTrafficIsCaught) {
  KPATH_REQUIRE_NET_ADMIN();
  Mutation masquerade_all = [](const Lines& in) {
    static const std::regex first_rule(R"(^-A (KUBE-EXT-\S+) .*pod traffic for)");
    Lines out;
    for (const auto& l : in) {
      std::smatch m;
      if (std::regex_search(l, m, first_rule)) out.push_back("-A " + m[1].str() + " -j KUBE-MARK-MASQ");
      out.push_back(l);
    }
    return out;
  };
  auto o = run_mutated("b04-etp-local-with-local-endpoint.yaml", "kube-iptables", masquerade_all);
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  ASSERT_EQ(o.run.status, Status::Fail) << describe(o.run);
  const auto& check = expectation(o.run, "TCP to node-a reaches only node-a's two endpoints, source preserved");
  EXPECT_EQ(check.status, Status::Fail);
  EXPECT_THAT(check.summary, HasSubstr("source not preserved"));
  EXPECT_THAT(check.summary, HasSubstr("192.168.10.1"));
}

// B21: with FORWARD policy DROP, KUBE-FORWARD's accept of marked packets is
// what lets the first packet of a NodePort connection through.
TEST(Mutation, ForwardMarkAcceptMissingIsCaught) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b21-forward-policy-drop.yaml", "kube-iptables",
                       delete_lines(R"(^-A KUBE-FORWARD .* -m mark --mark \S+ -j ACCEPT$)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  ASSERT_EQ(o.run.status, Status::Fail) << describe(o.run);
  const auto& check = expectation(o.run,
                                  "outside TCP to the NodePort is forwarded (iptables mode; nftables mode drops it)");
  EXPECT_EQ(check.status, Status::Fail);
  EXPECT_THAT(check.summary, HasSubstr("expected reachable, observed"));
  EXPECT_THAT(check.summary, HasSubstr("timeout"));
}

// B16, nftables: "numgen random mod n-1" never picks the last endpoint.
TEST(Mutation, NftNumgenModOneLessIsCaught) {
  KPATH_REQUIRE_NET_ADMIN();
  Mutation one_less = [](const Lines& in) {
    static const std::regex numgen(R"(numgen random mod (\d+))");
    Lines out;
    for (auto l : in) {
      std::smatch m;
      if (std::regex_search(l, m, numgen)) {
        int n = std::stoi(m[1].str());
        if (n > 1) l.replace(m.position(1), m.length(1), std::to_string(n - 1));
      }
      out.push_back(l);
    }
    return out;
  };
  auto o = run_mutated("b16-probabilities.yaml", "kube-nftables", one_less);
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  ASSERT_EQ(o.run.status, Status::Fail) << describe(o.run);
  for (const auto& e : o.run.expectations) {
    // The distributions; the refusals of undefined ports take no numgen.
    if (e.expectation->name.starts_with("warm-up") || e.expectation->result != Verdict::Reachable) continue;
    EXPECT_EQ(e.check.status, Status::Fail) << e.expectation->name << ": " << e.check.summary;
    EXPECT_THAT(e.check.summary, HasSubstr("got no probe")) << e.expectation->name;
  }
}

// B20, nftables: without cluster-ips-check's reject, traffic to a ClusterIP's
// undefined port falls to the service CIDR's drop instead of being refused.
TEST(Mutation, NftInvalidClusterIpPortRejectMissingIsCaught) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b20-nftables-cluster-ip-checks.yaml", "kube-nftables",
                       delete_lines(R"(^add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  ASSERT_EQ(o.run.status, Status::Fail) << describe(o.run);
  const auto& check = expectation(o.run, "a port the Service does not define (TCP)");
  EXPECT_EQ(check.status, Status::Fail);
  // The next rule, the service CIDR's drop, catches it.
  EXPECT_THAT(check.summary, HasSubstr("expected refused, observed 10 timeout"));
}

// B17: without kube-proxy's UDP conntrack cleanup, the client's one flow keeps
// reaching the deleted endpoint; the bundled case must notice.
TEST(Mutation, B17FailsWithoutConntrackCleanup) {
  KPATH_REQUIRE_NET_ADMIN();
  Case c = load_case(kCases + "b17-udp-stale-conntrack.yaml");
  for (const char* generator : {"kube-iptables", "kube-nftables"}) {
    RunOptions options;
    options.conntrack_cleanup = false;
    CaseRun run = run_case(c, GeneratorSpec::parse(generator, ""), options);
    ASSERT_EQ(run.status, Status::Fail) << generator << describe(run);
    const auto& check = expectation(run, "after dns-a is deleted, the same flow moves to dns-b");
    EXPECT_EQ(check.status, Status::Fail) << generator;
    EXPECT_THAT(check.summary, HasSubstr("dns-a answered")) << generator;
    EXPECT_THAT(check.summary, HasSubstr("is not one of the expected backends")) << generator;
  }
}

}  // namespace

namespace {

// B15: without KUBE-FORWARD's "--ctstate INVALID -j DROP", the backend's
// out-of-window segment reaches the client with the pod's own address.
TEST(Mutation, ConntrackInvalidDropMissingIsCaught) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b15-conntrack-invalid-drop.yaml", "kube-iptables",
                       delete_lines(R"(KUBE-FORWARD -m conntrack --ctstate INVALID)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  ASSERT_EQ(o.run.status, Status::Fail) << describe(o.run);
  const auto& check = expectation(o.run, "an out-of-window segment from the backend never reaches the client");
  EXPECT_THAT(check.summary, HasSubstr("expected dropped, observed 5 reply"));
  EXPECT_THAT(check.detail, HasSubstr("out-of-window segment from 10.244.0.10:8080, not NATed back"));
}

}  // namespace

// The single-rule mutants issue 9 lists, each of which used to pass its case
// because the topology, not the rules, produced the outcome. Each is one line
// of a generator's own output deleted (or one token of it changed), and each
// must now fail with a message that names the cause.
namespace {

// Replaces `from` by `to` in every line matching `pattern`.
Mutation edit_lines(const std::string& pattern, const std::string& from, const std::string& to) {
  return [re = std::regex(pattern), from, to](const Lines& in) {
    Lines out;
    for (auto l : in) {
      if (std::regex_search(l, re))
        if (auto at = l.find(from); at != std::string::npos) l.replace(at, from.size(), to);
      out.push_back(l);
    }
    return out;
  };
}

// Like delete_lines, but each generate() call may delete one line at most:
// a pattern that matched several would be more than a single-rule mutant.
Mutation delete_one_line(const std::string& pattern) {
  return [re = std::regex(pattern)](const Lines& in) {
    Lines out;
    int deleted = 0;
    for (const auto& l : in)
      if (std::regex_search(l, re)) ++deleted;
      else out.push_back(l);
    EXPECT_LE(deleted, 1) << "pattern "
                          << "matches more than one rule";
    return out;
  };
}

void expect_failed(const CaseRun& run, const std::string& name, const std::vector<std::string>& words) {
  const auto& check = expectation(run, name);
  EXPECT_EQ(check.status, Status::Fail) << name << ": " << check.summary;
  for (const auto& w : words) EXPECT_THAT(check.summary, HasSubstr(w)) << name;
}

// B10: without KUBE-PROXY-FIREWALL's DROP, an outside source's packets to the
// LB IP go on un-NATed (they used to die in routing, which looked like a drop).
TEST(Mutant, LbFirewallDropMissingLeaks) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b10-lb-source-ranges.yaml", "kube-iptables",
                       delete_one_line(R"(^-A KUBE-PROXY-FIREWALL .*dport 80 -j DROP$)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  expect_failed(o.run, "a client outside the ranges is dropped at the LB address (TCP)",
                {"expected dropped, observed 20 leaked", "leaked to 198.51.100.10 (20x) un-NATed"});
}

// B6: without the NodePort's "has no endpoints" REJECT, the node's own stack
// refuses with a RST: still refused, but not by a rule.
TEST(Mutant, NoEndpointsNodePortRejectMissingIsRefusedByTheStack) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b06-no-endpoints.yaml", "kube-iptables",
                       delete_one_line(R"(^-A KUBE-EXTERNAL-SERVICES .*has no endpoints.*--dport 30080 -j REJECT$)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  expect_failed(o.run, "external TCP to the NodePort is refused",
                {"refused by the node's stack (TCP RST) in 10 of 10 probes, expected a REJECT rule's ICMP error"});
}

// B12: without the OUTPUT jump to kubelet's KUBE-FIREWALL, the node's own
// datagram from its address to 127.0.0.1 crosses lo and INPUT's jump drops it
// silently: dropped still, but not on the sender's output.
TEST(Mutant, KubeletFirewallOutputJumpMissingTimesOut) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b12-localhost-nodeport.yaml", "kube-iptables",
                       delete_one_line(R"(^-A OUTPUT -j KUBE-FIREWALL$)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  expect_failed(o.run,
                "the node's own address to 127.0.0.1 on a port no NodePort uses is dropped on its output "
                "(KUBE-FIREWALL)",
                {"timed out in 20 of 20 dropped probes, expected a drop on the sender's output (EPERM at once)"});
}

// B12: without the INPUT jump, a packet to the node's 127.0.0.1 from another
// namespace reaches the node's stack, which refuses it (nothing listens).
TEST(Mutant, KubeletFirewallInputJumpMissingIsRefused) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b12-localhost-nodeport.yaml", "kube-iptables",
                       delete_one_line(R"(^-A INPUT -j KUBE-FIREWALL$)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  expect_failed(o.run, "an external client's packet to node-a's 127.0.0.1 is dropped on the node (KUBE-FIREWALL)",
                {"expected dropped, observed 20 refused"});
  expect_failed(o.run, "a pod's packet to its node's 127.0.0.1 is dropped on the node (KUBE-FIREWALL)",
                {"expected dropped, observed 20 refused"});
}

// B13: with INPUT policy DROP, the health-check node port's ACCEPT is what
// lets the load balancer's checks in.
TEST(Mutant, HealthCheckAcceptMissingIsDropped) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b13-health-check-node-port.yaml", "kube-iptables",
                       delete_one_line(R"(^-A KUBE-NODEPORTS .*health check node port.* -j ACCEPT$)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  expect_failed(o.run, "the health check answers 200 on the node with the endpoint",
                {"expected reachable, observed 50 timeout"});
}

// B14: without --random-fully (iptables) or fully-random (nftables),
// masquerade keeps the client's source port.
TEST(Mutant, RandomFullyMissingKeepsSourcePorts) {
  KPATH_REQUIRE_NET_ADMIN();
  const std::vector<std::pair<std::string, Mutation>> mutants{
      {"kube-iptables", edit_lines(R"(-j MASQUERADE)", " --random-fully", "")},
      {"kube-nftables", edit_lines(R"(masquerade fully-random)", " fully-random", "")}};
  for (const auto& [generator, mutation] : mutants) {
    auto o = run_mutated("b14-masquerade-mark.yaml", generator, mutation);
    ASSERT_GT(o.changed, 0) << generator << ": the mutation matched no rule";
    expect_failed(o.run, "marked external NodePort traffic is masqueraded (TCP)",
                  {"source ports not randomised: backends saw the client's own source port in"});
  }
}

// B9: an affinity timeout other than the Service's 1 s (here kube-proxy's
// default 10800 s) never lets a client's affinity expire.
TEST(Mutant, AffinityTimeoutChangedNeverExpires) {
  KPATH_REQUIRE_NET_ADMIN();
  const std::vector<std::pair<std::string, Mutation>> mutants{
      {"kube-iptables", edit_lines(R"(--rcheck --seconds 1 )", "--seconds 1 ", "--seconds 10800 ")},
      {"kube-nftables", edit_lines(R"(timeout 1s)", "timeout 1s", "timeout 10800s")}};
  for (const auto& [generator, mutation] : mutants) {
    RunOptions options;
    auto o = run_mutated("b09-session-affinity.yaml", generator, mutation, options);
    ASSERT_GT(o.changed, 0) << generator << ": the mutation matched no rule";
    expect_failed(o.run, "affinity lasts its 1 s timeout and then expires (twelve endpoints, seven pairs)",
                  {"session affinity never expired: 7 pairs"});
  }
}

// B20, nftables: without the drop of unallocated ClusterIPs, such traffic
// leaves the node un-NATed (it used to die in routing, which looked like a drop).
TEST(Mutant, NftUnallocatedClusterIpDropMissingLeaks) {
  KPATH_REQUIRE_NET_ADMIN();
  auto o = run_mutated("b20-nftables-cluster-ip-checks.yaml", "kube-nftables",
                       delete_one_line(R"(^add rule ip kube-proxy cluster-ips-check ip daddr \{ .* drop)"));
  ASSERT_GT(o.changed, 0) << "the mutation matched no rule";
  expect_failed(o.run, "an unallocated ClusterIP in the service CIDR (TCP)",
                {"expected dropped, observed", "leaked to 10.96.99.99"});
  expect_failed(o.run, "an unallocated ClusterIP in the service CIDR (UDP)", {"leaked to 10.96.99.99"});
}

// kube-proxy's own dumps, replayed: with the DROP of an externalIP without
// local endpoints or of an LB IP outside its source ranges deleted, the
// traffic leaks un-NATed instead of being dropped (iptables mode, and nft's
// externalIP), or reaches the endpoint (nft's LB IP: its firewall chain is
// separate from the DNAT).
TEST(Mutant, ReplayedDumpsWithoutExternalDropsLeak) {
  KPATH_REQUIRE_NET_ADMIN();
  const std::string replay = std::string(KPATH_SOURCE_DIR) + "/cases/replay/";
  struct Row {
    std::string file, pattern, expectation, observed;
  };
  const std::vector<Row> rows{
      {"kube-proxy-overall-iptables.yaml", R"(-d 192\.168\.99\.22 --dport 80 -j DROP$)",
       "svc2 externalIP with externalTrafficPolicy Local and no local endpoint is dropped",
       "leaked to 192.168.99.22 (20x) un-NATed"},
      {"kube-proxy-overall-iptables.yaml", R"(^-A KUBE-PROXY-FIREWALL .*-d 198\.51\.100\.8 --dport 80 -j DROP$)",
       "svc5 load balancer from outside loadBalancerSourceRanges is dropped", "leaked to 198.51.100.8 (20x) un-NATed"},
      {"kube-proxy-overall-nftables.yaml", R"(^add element .*no-endpoint-services \{ 192\.168\.99\.22 )",
       "svc2 externalIP with externalTrafficPolicy Local and no local endpoint is dropped",
       "leaked to 192.168.99.22 (20x) un-NATed"},
      {"kube-proxy-overall-nftables.yaml", R"(^add rule ip kube-proxy firewall-.*svc5.* drop$)",
       "svc5 load balancer from outside loadBalancerSourceRanges is dropped", "observed 20 reply"}};
  for (const auto& row : rows) {
    auto c = std::make_unique<Case>(load_case(replay + row.file));
    ASSERT_TRUE(c->generator) << row.file << " pins its dump";
    Mutated generator(*c->generator, delete_one_line(row.pattern));
    CaseRun run = run_case(*c, generator, RunOptions{});
    ASSERT_GT(generator.changed(), 0) << row.file << ": " << row.pattern << " matched no rule";
    expect_failed(run, row.expectation, {"expected dropped, observed", row.observed});
  }
}

}  // namespace
