// `bricks serve` as a user runs it: a child process on a free port, driven by the official
// openai npm client, by `bricks bench --endpoint`, compared with `bricks generate`, and
// stopped by SIGTERM while a request is in flight.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "../cli/cli_run.h"
#include "serve_fixture.h"

extern char** environ;

namespace bricks::testing {
namespace {

using nlohmann::json;

// A `bricks serve` child on an ephemeral port; killed (if still running) at the end.
class ServeProcess {
 public:
  explicit ServeProcess(const std::string& manifest_text) {
    static int n = 0;
    manifest_ = scratch_dir("bricks-serve-cli") / ("serve" + std::to_string(n++) + ".textproto");
    std::ofstream(manifest_) << manifest_text;
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    const std::string m = manifest_.string();
    std::vector<std::string> args = {BRICKS_CLI, "serve", m, "--port", "0",
                                     "--served-model-name", "tiny"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, BRICKS_CLI, &fa, nullptr, argv.data(), environ) != 0) {
      throw std::runtime_error("cannot start bricks serve");
    }
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    out_ = ::fdopen(out[0], "r");
    char line[4096];
    if (std::fgets(line, sizeof line, out_) == nullptr) return;  // died: port_ stays 0
    first_line_ = line;
    std::smatch mt;
    if (std::regex_search(first_line_, mt, std::regex(R"(http://127\.0\.0\.1:(\d+))"))) {
      port_ = static_cast<uint16_t>(std::stoi(mt[1]));
    }
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ != nullptr) std::fclose(out_);
  }
  uint16_t port() const { return port_; }
  const std::string& first_line() const { return first_line_; }
  // Sends `sig` and waits for the exit status.
  int signal_and_wait(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  std::filesystem::path manifest_;
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  uint16_t port_ = 0;
  std::string first_line_;
};

TEST(ServeCli, OfficialOpenAiClientDrivesTheServer) {
  if (std::system("node --version >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "node is not installed (tools/install-deps.sh installs it)";
  }
  const std::string dir = BRICKS_SOURCE_DIR "/tests/serve/node";
  ASSERT_TRUE(std::filesystem::exists(dir + "/node_modules/openai/package.json"))
      << "the openai npm package is missing: run tools/install-deps.sh";
  ServeProcess server(serve_manifest());
  ASSERT_NE(server.port(), 0) << server.first_line();
  const auto log = scratch_dir("bricks-serve-cli") / "node.txt";
  const std::string cmd = "node '" + dir + "/openai_client.mjs' http://127.0.0.1:" +
                          std::to_string(server.port()) + "/v1 >'" + log.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string out = read_file(log);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("openai client: 6 checks passed"), std::string::npos) << out;
  EXPECT_EQ(server.signal_and_wait(SIGTERM), 0);
}

TEST(ServeCli, GreedyTextAndLogprobsEqualGenerate) {
  ServeProcess server(serve_manifest());
  ASSERT_NE(server.port(), 0) << server.first_line();
  serve::HttpClient c("127.0.0.1", server.port());
  const serve::HttpResponse r = c.request(
      "POST", "/v1/completions",
      json{{"model", "tiny"}, {"prompt", "The river"}, {"max_tokens", 10}, {"temperature", 0},
           {"ignore_eos", true}, {"logprobs", 2}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json served = json::parse(r.body);
  const CliResult g = run_bricks("generate --model '" + process_model("tiny").string() +
                                 "' -p 'The river' -n 10 --threads 1 --json --logprobs 2");
  ASSERT_EQ(g.exit_code, 0) << g.err;
  const json gen = json::parse(g.out);
  EXPECT_EQ(served["choices"][0]["text"], gen["text"]);
  const json& lp = served["choices"][0]["logprobs"]["token_logprobs"];
  ASSERT_EQ(lp.size(), gen["logprobs"].size());
  for (size_t i = 0; i < lp.size(); ++i) {
    EXPECT_FLOAT_EQ(lp[i].get<float>(), gen["logprobs"][i]["logprob"].get<float>()) << i;
  }
  EXPECT_EQ(gen["ids"].size(), 10u);
}

TEST(ServeCli, SigtermDrainsRequestsInFlightThenExitsZero) {
  ServeProcess server(serve_manifest());
  ASSERT_NE(server.port(), 0) << server.first_line();
  serve::HttpClient c("127.0.0.1", server.port());
  int chunks = 0;
  std::string finish;
  std::thread sender;
  const serve::HttpResponse r = c.stream(
      "/v1/completions",
      json{{"model", "tiny"}, {"prompt", "drain"}, {"max_tokens", 64}, {"ignore_eos", true},
           {"stream", true}}.dump(),
      [&](std::string_view d) {
        if (++chunks == 1) sender = std::thread([&] { EXPECT_EQ(server.signal_and_wait(SIGTERM), 0); });
        if (d != "[DONE]") {
          const json e = json::parse(d);
          if (!e["choices"].empty() && e["choices"][0]["finish_reason"].is_string()) {
            finish = e["choices"][0]["finish_reason"];
          }
        }
        return true;
      });
  sender.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(finish, "length");  // the request in flight ran to its end
}

TEST(ServeCli, BenchEndpointMeasuresTheServer) {
  ServeProcess server(serve_manifest());
  ASSERT_NE(server.port(), 0) << server.first_line();
  const auto m = scratch_dir("bricks-serve-cli") / "bench.textproto";
  std::ofstream(m) << serve_manifest() +
                          "workload { generator { num_requests: 6 rate: 50 prompt_len_min: 8 "
                          "prompt_len_max: 16 output_len_min: 4 output_len_max: 8 seed: 3 } }\n";
  const auto out = scratch_dir("bricks-serve-cli") / "bench-out";
  const CliResult b = run_bricks("bench '" + m.string() + "' --endpoint http://127.0.0.1:" +
                                 std::to_string(server.port()) + " --no-progress --out '" +
                                 out.string() + "'");
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  const json j = json::parse(read_file(out / "endpoint.json"));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["errors"], 0);
  EXPECT_EQ(j[0]["added_ttft_s"]["count"], 6);
  EXPECT_NE(b.out.find("server-added TTFT"), std::string::npos);
}

TEST(ServeCli, HelpAndBadInput) {
  const CliResult h = run_bricks("serve --help");
  EXPECT_EQ(h.exit_code, 0);
  for (const char* flag : {"--host", "--port", "--api-key", "--max-queued", "--drain-timeout"}) {
    EXPECT_NE(h.out.find(flag), std::string::npos) << flag;
  }
  const CliResult missing = run_bricks("serve /no/such/manifest.textproto");
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  const auto sim = scratch_dir("bricks-serve-cli") / "sim.textproto";
  std::ofstream(sim) << "plugin_paths: \"" BRICKS_PLUGIN_BUILD_DIR "\"\n"
                        "device { kind: \"sim\" gpu: \"a100-80gb\" sim_model: \"mistral-7b\" }\n"
                        "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
                        "bricks { kind: \"kv\" name: \"paged\" }\n"
                        "bricks { kind: \"attention\" name: \"reference\" }\n";
  const CliResult s = run_bricks("serve '" + sim.string() + "' --port 0");
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_NE(s.err.find("needs a device that runs the model"), std::string::npos) << s.err;
}

}  // namespace
}  // namespace bricks::testing
