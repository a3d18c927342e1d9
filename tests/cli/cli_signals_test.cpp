// SIGINT and SIGTERM through the CLI: `run` and `bench` stop after the current step with a
// partial report marked interrupted and exit 130/143; a second signal stops at once;
// commands that write a file leave no partial file behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tiny_model_suite.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

struct Signalled {
  int exit_code = -1;  // the exit status, or 128 + the signal that killed it
  std::string err;
};

// Runs `bricks args...` in `cwd`, sends `sig` (`times` times) once its stderr has shown
// `marker`, and collects the rest of stderr and the exit status. A process that never ends
// is killed after a generous guard so that a hang fails the test instead of the suite.
Signalled run_and_signal(const std::vector<std::string>& args, const fs::path& cwd,
                         const std::string& marker, int sig, int times = 1) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, STDIN_FILENO);
    ::dup2(devnull, STDOUT_FILENO);
    ::close(pipe_fds[0]);
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    std::vector<char*> argv{const_cast<char*>(BRICKS_CLI)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(BRICKS_CLI, argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  Signalled out;
  bool sent = false;
  int idle_polls = 0;
  for (;;) {
    pollfd p{pipe_fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, 1000);
    if (ready == 0) {
      if (++idle_polls > 300) {  // 5 minutes without a byte: hung
        ::kill(pid, SIGKILL);
        out.err += "\n[test: killed a hung process]";
      }
      continue;
    }
    idle_polls = 0;
    char buf[4096];
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.err.append(buf, static_cast<size_t>(n));
    if (!sent && out.err.find(marker) != std::string::npos) {
      for (int i = 0; i < times; ++i) ::kill(pid, sig);
      sent = true;
    }
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (!sent) out.err += "\n[test: the marker never appeared, no signal was sent]";
  return out;
}

// Far more work than runs before the first progress line: only a signal ends it early.
const char* kLongRun = R"(
name: "long"
model { path: "tiny.gguf" }
device { kind: "cpu" threads: 1 kv_cache_bytes: 16777216 kv_dtype: "f32" compute: "f32" }
bricks { kind: "scheduler" name: "fcfs" }
bricks { kind: "kv" name: "paged" }
bricks { kind: "attention" name: "reference" }
workload {
  generator { num_requests: 4000 rate: 1000 prompt_len_min: 64 prompt_len_max: 64
              output_len_min: 256 output_len_max: 256 seed: 1 }
  sampling { ignore_eos: true }
}
)";

class CliSignals : public TinyModelSuite {
 protected:
  static void SetUpTestSuite() { make_dir_with_tiny_model("bricks-cli-signals"); }
};

TEST_F(CliSignals, RunStopsWithAPartialReportAndExit130) {
  const fs::path m = write("long.textproto", kLongRun);
  Signalled r = run_and_signal({"run", m.string(), "--report-json", "partial.json"}, dir_,
                               "run [", SIGINT);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("interrupted by SIGINT"), std::string::npos) << r.err;
  ASSERT_TRUE(fs::exists(dir_ / "partial.json")) << r.err;
  const auto j = nlohmann::json::parse(read_file(dir_ / "partial.json"));
  EXPECT_EQ(j["interrupted_by"], "SIGINT");
  const auto& q = j["requests"];
  EXPECT_EQ(q["submitted"].get<int>(), 4000);
  EXPECT_GT(q["unfinished"].get<int>(), 0);
  EXPECT_EQ(q["finished"].get<int>() + q["failed"].get<int>() + q["unfinished"].get<int>(), 4000);
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".partial"), std::string::npos) << e.path();
  }
  fs::remove(dir_ / "partial.json");
}

TEST_F(CliSignals, SigtermGivesExit143) {
  const fs::path m = write("long.textproto", kLongRun);
  Signalled r = run_and_signal({"run", m.string(), "--quiet"}, dir_, "run [", SIGTERM);
  EXPECT_EQ(r.exit_code, 143) << r.err;
  EXPECT_NE(r.err.find("interrupted by SIGTERM"), std::string::npos) << r.err;
}

TEST_F(CliSignals, ASecondSignalStopsAtOnce) {
  const fs::path m = write("long.textproto", kLongRun);
  Signalled r = run_and_signal({"run", m.string(), "--report-json", "never.json"}, dir_, "run [",
                               SIGINT, 2);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("interrupted by SIGINT"), std::string::npos) << r.err;
}

TEST_F(CliSignals, BenchKeepsTheRunsSoFarAndExit130) {
  const fs::path m = write("long.textproto", kLongRun);
  Signalled r = run_and_signal({"bench", m.string(), "--rates", "1000,2000", "--out", "b"}, dir_,
                               "run 1:", SIGINT);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("interrupted by SIGINT"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "b" / "bench.json")) << r.err;
  fs::remove_all(dir_ / "b");
}

TEST_F(CliSignals, MakeModelRemovesItsPartialFile) {
  Signalled r = run_and_signal({"make-model", "--preset", "small", "--out", "small.gguf"}, dir_,
                               "make-model small", SIGTERM);
  EXPECT_EQ(r.exit_code, 143) << r.err;
  EXPECT_NE(r.err.find("removed the partial output"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "small.gguf.partial"));
  EXPECT_FALSE(fs::exists(dir_ / "small.gguf"));
}

}  // namespace
}  // namespace bricks::testing
