// --keep pins a run's namespaces (rules and all) for inspection; `kpath
// cleanup` removes every pin, and with it the namespaces.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "netns/namespace.h"
#include "netns/process.h"
#include "support/host_snapshot.h"
#include "support/privileges.h"

namespace {

namespace fs = std::filesystem;

std::set<std::string> kpath_pins() {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/netns", ec))
    if (e.path().filename().string().rfind("kpath-", 0) == 0) out.insert(e.path().string());
  return out;
}

TEST(Keep, PinnedNamespacesHoldTheRulesUntilCleanup) {
  KPATH_REQUIRE_NET_ADMIN();
  auto before = kpath_pins();
  const std::string kpath = KPATH_BINARY;
  const std::string seed = std::string(KPATH_SOURCE_DIR) + "/cases/seed-webapp1-nodeport.yaml";
  int rc = std::system((kpath + " run --keep -j1 -g kube-iptables -g kube-iptables " + seed + " >/dev/null 2>&1").c_str());
  ASSERT_EQ(rc, 0);
  auto after = kpath_pins();
  std::vector<std::string> mine;
  for (const auto& p : after)
    if (!before.count(p)) mine.push_back(p);
  EXPECT_EQ(mine.size(), 12u) << "two runs of fabric, sink, node, two pods and a client";

  // The node's rules are still there, inside the pinned namespace.
  std::string node;
  for (const auto& p : mine)
    if (p.size() > 7 && p.substr(p.size() - 7) == "-master") node = p;
  ASSERT_FALSE(node.empty());
  auto saved = netns::run_process(netns::Namespace::open(node), {"iptables-nft-save", "-t", "nat"});
  // The seed Service's chain as kube-proxy >= 1.19 names its unnamed port.
  EXPECT_NE(saved.out.find("KUBE-SVC-X42AMYO3K4UIBY54"), std::string::npos) << saved.out;

  rc = std::system((kpath + " cleanup >/dev/null 2>&1").c_str());
  EXPECT_EQ(rc, 0);
  for (const auto& p : mine) EXPECT_FALSE(fs::exists(p)) << p;
}

}  // namespace
