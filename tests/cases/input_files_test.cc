// What a case path or a `ruleset:` path may name besides a regular file:
// FIFOs, devices, folders, link loops, dangling links, huge files. Each gets
// its own message naming the path, none blocks, and a folder's good cases
// still load when a bad entry sits next to them. These need real files, so
// they live here rather than in tests/cases/bad.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "base/file.h"
#include "harness/cases/case_loader.h"
#include "harness/model/ruleset_text.h"
#include "tests/cases/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kCase =
    "apiVersion: kpath/v1\nkind: Case\nname: ok\n"
    "cluster:\n  podCIDR: 10.32.0.0/12\n  serviceCIDR: 10.96.0.0/12\n"
    "  nodes:\n    - name: n1\n      ip: 192.168.100.1\n"
    "expect:\n  - {from: n1, to: 192.168.100.1:22, result: refused}\n";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const kpath::Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string load_error(const std::string& path) {
  return error_of([&] { harness::load_case(path); });
}

TEST(CasePath, FifoIsNamedAndNeverOpened) {
  kpath_test::TempDir dir;
  std::string fifo = dir.path() + "/pipe.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opening it for reading would block until a writer comes: this returns.
  EXPECT_EQ(load_error(fifo), fifo + ": is a FIFO (named pipe), not a case file (kpath reads only regular files)");
}

TEST(CasePath, SymlinkLoop) {
  kpath_test::TempDir dir;
  fs::create_symlink("b.yaml", dir.path() + "/a.yaml");
  fs::create_symlink("a.yaml", dir.path() + "/b.yaml");
  EXPECT_EQ(load_error(dir.path() + "/a.yaml"),
            dir.path() + "/a.yaml: is a symbolic link loop, not a case file (kpath reads only regular files)");
}

TEST(CasePath, DanglingLink) {
  kpath_test::TempDir dir;
  fs::create_symlink("gone.yaml", dir.path() + "/a.yaml");
  EXPECT_EQ(load_error(dir.path() + "/a.yaml"), dir.path() +
                                                    "/a.yaml: is a dangling symbolic link to 'gone.yaml', "
                                                    "not a case file (kpath reads only regular files)");
}

TEST(CasePath, DirectoryAndDevice) {
  kpath_test::TempDir dir;
  EXPECT_EQ(load_error(dir.path()), dir.path() + ": is a directory, not a case file (kpath reads only regular files)");
  EXPECT_EQ(load_error("/dev/null"),
            "/dev/null: is a character device, not a case file (kpath reads only regular files)");
}

TEST(CasePath, Missing) {
  EXPECT_EQ(load_error("/nonexistent/x.yaml"), "/nonexistent/x.yaml: no such case file");
  EXPECT_EQ(error_of([] { harness::find_case_files({"/nonexistent/x.yaml"}); }),
            "/nonexistent/x.yaml: no such case file or folder");
}

TEST(CasePath, HugeFileIsNotRead) {
  kpath_test::TempDir dir;
  std::string big = dir.path() + "/big.yaml";
  std::ofstream(big) << kCase;
  fs::resize_file(big, uint64_t{5} << 30);  // sparse: no disk space, and reading it would take 5 GiB of memory
  EXPECT_EQ(load_error(big), big + ": is 5 GiB, above the 4 MiB limit for a case file");
}

TEST(CasePath, TextAboveTheLimit) {
  std::string text = kCase + "# " + std::string(harness::kMaxCaseFileBytes, 'x') + "\n";
  EXPECT_EQ(error_of([&] { harness::parse_case(text, "t.yaml"); }),
            "t.yaml: is 4.0 MiB, above the 4 MiB limit for a case file");
}

TEST(CasePath, UnreadableFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  kpath_test::TempDir dir;
  std::string f = dir.write("a.yaml", kCase);
  fs::permissions(f, fs::perms::none);
  EXPECT_EQ(load_error(f), f + ": cannot open the case file: Permission denied");
}

TEST(CaseFolder, EmptyFolderSaysSo) {
  kpath_test::TempDir dir;
  EXPECT_TRUE(harness::find_case_files({dir.path()}).empty());
  EXPECT_EQ(harness::why_no_case_files({dir.path()}),
            "no *.yaml case files in " + dir.path() + ": the folder is empty");
}

TEST(CaseFolder, SaysWhatItFoundInstead) {
  kpath_test::TempDir dir;
  fs::create_symlink("nowhere", dir.path() + "/x");
  dir.write("notes.txt", "hello");
  fs::create_directory(dir.path() + "/sub");
  EXPECT_TRUE(harness::find_case_files({dir.path()}).empty());
  EXPECT_EQ(harness::why_no_case_files({dir.path()}),
            "no *.yaml case files in " + dir.path() +
                "; found instead: notes.txt (a regular file), sub/ (no case file in it), x (a dangling symbolic link "
                "to 'nowhere')");
}

TEST(CaseFolder, BadEntriesAreListedNextToGoodOnes) {
  kpath_test::TempDir dir;
  std::string good = dir.write("good.yaml", kCase);
  fs::create_symlink("loop.yaml", dir.path() + "/loop.yaml");
  std::string fifo = dir.path() + "/sub/pipe.yaml";
  fs::create_directories(dir.path() + "/sub");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_directory_symlink("..", dir.path() + "/sub/up");  // a folder loop, not followed

  auto files = harness::find_case_files({dir.path()});
  EXPECT_EQ(harness::why_no_case_files({dir.path()}), "");
  ASSERT_EQ(files, (std::vector<std::string>{good, dir.path() + "/loop.yaml", fifo}));
  EXPECT_EQ(harness::load_case(good).name, "ok");
  EXPECT_THAT(load_error(files[1]), HasSubstr("is a symbolic link loop"));
  EXPECT_THAT(load_error(files[2]), HasSubstr("is a FIFO (named pipe)"));
}

TEST(CaseFolder, ExplicitOddPathIsListedForTheLoaderToName) {
  kpath_test::TempDir dir;
  std::string fifo = dir.path() + "/p";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(harness::find_case_files({fifo}), std::vector<std::string>{fifo});
}

// A case naming a ruleset, with the case file in `dir`.
std::string ruleset_case(const std::string& spec) { return kCase + "generator: \"ruleset:" + spec + "\"\n"; }

std::string ruleset_error(const kpath_test::TempDir& dir, const std::string& spec) {
  return error_of([&] { harness::parse_case(ruleset_case(spec), dir.path() + "/c.yaml"); });
}

TEST(RulesetPath, FifoIsReportedAtTheCaseLine) {
  kpath_test::TempDir dir;
  ASSERT_EQ(::mkfifo((dir.path() + "/dump").c_str(), 0600), 0);
  EXPECT_EQ(ruleset_error(dir, "dump"),
            dir.path() + "/c.yaml:12:12: 'generator': " + dir.path() +
                "/dump: is a FIFO (named pipe), not a ruleset file (kpath reads only regular files); a relative path "
                "is relative to the case file's folder, " +
                dir.path());
}

TEST(RulesetPath, AbsolutePathGetsNoRelativeHint) {
  kpath_test::TempDir dir;
  EXPECT_EQ(ruleset_error(dir, dir.path() + "/none"),
            dir.path() + "/c.yaml:12:12: 'generator': " + dir.path() + "/none: no such ruleset file");
}

TEST(RulesetPath, LinkLoopAndDirectory) {
  kpath_test::TempDir dir;
  fs::create_symlink("dump", dir.path() + "/dump");
  EXPECT_THAT(ruleset_error(dir, "dump"), HasSubstr("/dump: is a symbolic link loop, not a ruleset file"));
  fs::create_directory(dir.path() + "/d");
  EXPECT_THAT(ruleset_error(dir, "d"), HasSubstr("/d is a folder with no dump for any node of this case"));
}

// A folder of per-node dumps: NODE.EXT for each node that has one; two for
// one node is ambiguous.
TEST(RulesetPath, FolderOfPerNodeDumps) {
  kpath_test::TempDir dir;
  fs::create_directory(dir.path() + "/dumps");
  dir.write("dumps/n1.nft", "table ip t {\n}\n");
  EXPECT_EQ(ruleset_error(dir, "dumps/"), "(no error)");
  dir.write("dumps/n1.iptables-save", "*nat\nCOMMIT\n");
  EXPECT_THAT(ruleset_error(dir, "dumps"), HasSubstr("two dumps for node n1 in " + dir.path() + "/dumps: "));
}

TEST(RulesetPath, PerNodeListIsCheckedForEveryNode) {
  kpath_test::TempDir dir;
  dir.write("a.nft", "table ip t {\n}\n");
  EXPECT_EQ(ruleset_error(dir, "n1=a.nft"), "(no error)");
  EXPECT_THAT(ruleset_error(dir, "n1=a.nft,n7=a.nft"), HasSubstr("names node 'n7', which this case does not have"));
  EXPECT_THAT(ruleset_error(dir, "n1=missing.nft"), HasSubstr("/missing.nft: no such ruleset file"));
}

TEST(RulesetPath, HugeDumpIsNotRead) {
  kpath_test::TempDir dir;
  std::string dump = dir.write("dump", "*nat\nCOMMIT\n");
  fs::resize_file(dump, harness::kMaxRulesetBytes + 1);
  EXPECT_THAT(ruleset_error(dir, "dump"), HasSubstr("/dump: is 64.0 MiB, above the 64 MiB limit for a ruleset file"));
}

TEST(RulesetPath, OtherTextIsNotEchoed) {
  kpath_test::TempDir dir;
  std::string secret = dir.write("notes", "# a comment\n\n  sk-live-0123456789abcdef\n");
  std::string msg = error_of([&] { harness::read_ruleset_file(secret); });
  EXPECT_EQ(msg, secret +
                     ":3: is neither an iptables-save dump (*nat, :CHAIN, -A ..., COMMIT) nor an nft script "
                     "(table, add, flush, ...): its first line that is not a comment starts with 'sk-live-...'");
  EXPECT_THAT(msg, Not(HasSubstr("0123")));
}

TEST(RulesetPath, EscapesWhatItShows) {
  kpath_test::TempDir dir;
  std::string f = dir.write("esc", "\x1b[31mred\n");
  EXPECT_THAT(error_of([&] { harness::read_ruleset_file(f); }), HasSubstr("starts with '\\u{1B}[31mred'"));
}

TEST(RulesetPath, IptablesSaveAndNftAreRead) {
  kpath_test::TempDir dir;
  std::string ipt = dir.write("a", "# Generated by iptables-save\n*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n");
  std::string nft = dir.write("b", "#!/usr/sbin/nft -f\nadd table ip kube-proxy\n");
  std::string structured = dir.write("c", "\ntable ip t {\n}\n");
  EXPECT_THAT(harness::read_ruleset_file(ipt), StartsWith("# Generated"));
  EXPECT_THAT(harness::read_ruleset_file(nft), HasSubstr("add table"));
  EXPECT_THAT(harness::read_ruleset_file(structured), HasSubstr("table ip t"));
}

TEST(FileInfo, DescribesWhatIsThere) {
  kpath_test::TempDir dir;
  std::string f = dir.write("f", "12345");
  kpath::FileInfo info = kpath::inspect_file(f);
  EXPECT_EQ(info.kind, kpath::FileKind::Regular);
  EXPECT_EQ(info.size, 5u);
  EXPECT_EQ(kpath::inspect_file(dir.path() + "/none").kind, kpath::FileKind::Missing);
  EXPECT_EQ(kpath::human_size(5), "5 bytes");
  EXPECT_EQ(kpath::human_size(1536), "1.5 KiB");
  EXPECT_EQ(kpath::human_size(uint64_t{3} << 30), "3 GiB");
}

}  // namespace
