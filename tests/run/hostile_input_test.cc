// Hostile input through the kpath binary: file names that hold terminal
// escapes reach the terminal escaped, `kpath run` never blocks on a FIFO, says
// why a folder has no case, and `--strict` turns a case's warnings into a
// load error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "harness/report/report.h"
#include "netns/namespace.h"
#include "netns/process.h"
#include "support/host_process.h"
#include "support/privileges.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class KpathRun : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "kpath-hostile-XXXXXX").string();
    ASSERT_TRUE(::mkdtemp(pattern.data()));
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  netns::ProcessResult kpath(std::vector<std::string> args) {
    args.insert(args.begin(), {KPATH_BINARY, "run"});
    return kpath_test::run_on_host(netns::Namespace::current(), args, "", std::chrono::seconds(60));
  }

  std::string dir_;
};

// A case that loads with one warning: its Service sends to a port nobody listens on.
const std::string kWarnCase =
    "apiVersion: kpath/v1\nkind: Case\nname: warned\n"
    "cluster:\n  podCIDR: 10.32.0.0/12\n  serviceCIDR: 10.96.0.0/12\n"
    "  nodes:\n    - name: n1\n      ip: 192.168.100.1\n"
    "      pods: [{name: web-1, ip: 10.32.0.3, labels: {app: web}, listen: [{port: 80}]}]\n"
    "objects:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n"
    "    spec: {clusterIP: 10.96.0.10, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n"
    "expect:\n  - {from: n1, to: default/web:80, result: refused}\n";

TEST_F(KpathRun, StrictMakesWarningsLoadErrorsAndNothingBlocksOrLeaksEscapes) {
  std::string warned = write("warned.yaml", kWarnCase);
  std::string fifo = dir_ + "/pipe.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string evil = write("\x1b[31mevil.yaml", "name: [\n");
  ASSERT_EQ(::mkfifo((dir_ + "/dump").c_str(), 0600), 0);
  std::string pinned = write("pinned.yaml", kWarnCase + "generator: ruleset:dump\n");

  auto r = kpath({"--strict", warned, fifo, evil, pinned});
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr(warned + ":15:65: warning: Service 'default/web' port 80 sends to 8080/TCP, where pod "
                                        "'web-1' does not listen: connections to it are refused"));
  EXPECT_THAT(r.err, HasSubstr("ERROR " + warned + ":15:65: Service 'default/web' port 80 sends to 8080/TCP"));
  EXPECT_THAT(r.err, HasSubstr("[a warning, an error under --strict]"));
  EXPECT_THAT(r.err, HasSubstr("ERROR " + fifo + ": is a FIFO (named pipe), not a case file"));
  EXPECT_THAT(r.err, HasSubstr("ERROR " + dir_ + "/\\u{1B}[31mevil.yaml:"));
  EXPECT_THAT(r.err, HasSubstr("ERROR " + pinned + ":18:12: 'generator': " + dir_ + "/dump: is a FIFO (named pipe)"));
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
}

TEST_F(KpathRun, EmptyFolderSaysWhy) {
  KPATH_REQUIRE_NET_ADMIN();  // without it kpath stops first, for that reason
  auto r = kpath({dir_});
  EXPECT_EQ(r.exit_code, harness::kExitNothingRan);
  EXPECT_EQ(r.err, "kpath: nothing to run: no *.yaml case files in " + dir_ + ": the folder is empty\n");
}

}  // namespace
