// bricks-conform: runs the conformance suite of each brick's kind on the bricks of one
// plugin file, so an out-of-tree brick is checked by the same tests as the shipped ones.
// Each brick runs in a child process: a brick that crashes is reported and the others go on.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "brick_harness.h"
#include "conform_args.h"
#include "conform_plan.h"
#include "host/plugin_paths.h"

namespace fs = std::filesystem;

namespace bricks::conform {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Sends one byte per finished test to the parent: 'p'assed, 'f'ailed or 's'kipped.
class ResultPipe : public ::testing::EmptyTestEventListener {
 public:
  explicit ResultPipe(int fd) : fd_(fd) {}
  void OnTestEnd(const ::testing::TestInfo& info) override {
    const ::testing::TestResult& r = *info.result();
    const char c = r.Skipped() ? 's' : r.Failed() ? 'f' : 'p';
    while (::write(fd_, &c, 1) < 0 && errno == EINTR) {
    }
  }

 private:
  int fd_;
};

struct Outcome {
  int passed = 0, failed = 0, skipped = 0;
  int exit_status = -1;  // the child's, when it exited
  int signal = 0;        // what killed it, when something did
  bool ok() const { return signal == 0 && exit_status == 0 && failed == 0; }
};

// The child's part: the suite on one brick, GoogleTest's exit status.
[[noreturn]] void run_child(const BrickRun& run, const ConformPlan& plan,
                            const std::vector<std::string>& gtest_flags, int fd) {
  select_for_suite(run);
  testing::set_plugin_files(plan.files);
  std::vector<std::string> words = {"bricks-conform"};
  words.insert(words.end(), gtest_flags.begin(), gtest_flags.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(words.size());
  ::testing::InitGoogleTest(&argc, argv.data());
  ::testing::UnitTest::GetInstance()->listeners().Append(new ResultPipe(fd));
  const int rc = RUN_ALL_TESTS();
  std::fflush(nullptr);
  std::exit(rc);  // static destructors run: scratch directories are removed
}

Outcome run_brick(const BrickRun& run, const ConformPlan& plan,
                  const std::vector<std::string>& gtest_flags) {
  Outcome out;
  int fds[2];
  if (::pipe(fds) != 0) {
    std::fprintf(stderr, "bricks-conform: pipe: %s\n", std::strerror(errno));
    out.exit_status = kExitFailed;
    return out;
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    run_child(run, plan, gtest_flags, fds[1]);
  }
  ::close(fds[1]);
  if (pid < 0) {
    std::fprintf(stderr, "bricks-conform: fork: %s\n", std::strerror(errno));
    ::close(fds[0]);
    out.exit_status = kExitFailed;
    return out;
  }
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      out.passed += buf[i] == 'p' ? 1 : 0;
      out.failed += buf[i] == 'f' ? 1 : 0;
      out.skipped += buf[i] == 's' ? 1 : 0;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) out.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
  return out;
}

// "conform: scheduler/sjf from /path/libx.so: 23 passed, 0 failed"
std::string summary(const BrickRun& run, const ConformPlan& plan, const Outcome& o) {
  std::string counts = std::to_string(o.passed) + " passed, " + std::to_string(o.failed) +
                       " failed" +
                       (o.skipped > 0 ? ", " + std::to_string(o.skipped) + " skipped" : "");
  std::string line = "conform: " + run.title + " from " + plan.plugin.string() + ": ";
  if (o.signal != 0) {
    return line + "crashed (" + strsignal(o.signal) + ") after " + counts;
  }
  line += counts;
  if (o.exit_status != 0 && o.failed == 0) {
    line += ", but the suite exited with status " + std::to_string(o.exit_status);
  }
  return line;
}

// Where the shipped bricks are: as `bricks` finds them, plus the install dir beside this
// program (<prefix>/bin/bricks-conform -> <prefix>/<plugin dir>), so an install moved to
// another prefix still finds its own plugins.
std::vector<fs::path> partner_search_path() {
  std::vector<fs::path> dirs = host::plugin_search_path({});
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return dirs;
  const fs::path beside = exe.parent_path().parent_path() / BRICKS_CONFORM_PLUGIN_DIR;
  auto it = dirs.begin();
  while (it != dirs.end() && *it != host::plugin_install_dir()) ++it;
  if (std::find(dirs.begin(), dirs.end(), beside) == dirs.end()) dirs.insert(it, beside);
  return dirs;
}

int conform_main(int argc, char** argv) {
  ConformArgs args;
  ConformPlan plan;
  try {
    args = parse_args(argc, argv);
    if (args.help) {
      std::fputs(help_text().c_str(), stdout);
      return kExitOk;
    }
    host::LoadOptions options;
    options.search_path = partner_search_path();
    options.allow_group_writable = args.allow_group_writable;
    plan = make_plan(args, options);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "bricks-conform: %s\n", e.message.c_str());
    return kExitUsage;
  }

  std::vector<Outcome> outcomes;
  for (const BrickRun& run : plan.runs) {
    std::printf("conform: %s from %s%s%s\n", run.title.c_str(), plan.plugin.c_str(),
                run.setup.empty() ? "" : ": ", run.setup.c_str());
    outcomes.push_back(run_brick(run, plan, args.gtest_flags));
  }
  bool all_ok = true;
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    std::printf("%s\n", summary(plan.runs[i], plan, outcomes[i]).c_str());
    all_ok = all_ok && outcomes[i].ok();
  }
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace
}  // namespace bricks::conform

int main(int argc, char** argv) { return bricks::conform::conform_main(argc, argv); }
