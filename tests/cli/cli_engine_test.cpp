// End to end through the CLI: make-model, run, generate, and the errors users meet.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_run.h"
#include "tiny_model_suite.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

class CliEngine : public TinyModelSuite {
 protected:
  static void SetUpTestSuite() { make_dir_with_tiny_model("bricks-cli-engine"); }
  // The generator workload, or `trace` when given.
  static std::string manifest(const std::string& trace = "") {
    return "name: \"cli test\"\n"
           "model { path: \"tiny.gguf\" }\n"
           "device { kind: \"cpu\" threads: 2 kv_cache_bytes: 8388608 }\n"
           "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
           "bricks { kind: \"kv\" name: \"paged\" }\n"
           "bricks { kind: \"attention\" name: \"cpu_paged\" }\n"
           "workload { " +
           (trace.empty() ? std::string("generator { num_requests: 6 prompt_len_min: 8 "
                                        "prompt_len_max: 40 output_len_min: 4 "
                                        "output_len_max: 10 seed: 3 }")
                          : "trace: \"" + trace + "\"") +
           " }\n";
  }
};

TEST_F(CliEngine, RunPrintsReportAndWritesJson) {
  fs::path m = write("run.textproto", manifest());
  CliResult r = run_bricks("run --no-progress --report-json report.json '" + m.string() + "'",
                           dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("TTFT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("6 finished"), std::string::npos) << r.out;
  auto j = nlohmann::json::parse(read_file(dir_ / "report.json"));
  EXPECT_EQ(j["requests"]["finished"], 6);
  EXPECT_EQ(j["requests"]["failed"], 0);
  EXPECT_GT(j["throughput"]["output_tokens_per_s"].get<double>(), 0.0);
  EXPECT_GT(j["ttft_s"]["p99"].get<double>(), 0.0);
}

// Commands that run forward passes restart once with OMP_WAIT_POLICY=PASSIVE, so that oneDNN's
// OpenMP threads sleep between products; the others start once and leave it unset; a policy
// the environment sets is kept.
TEST_F(CliEngine, OnlyForwardPassCommandsSetTheOpenMpWaitPolicy) {
  const char* outer = std::getenv("OMP_WAIT_POLICY");
  const std::string saved = outer != nullptr ? outer : "";
  ::unsetenv("OMP_WAIT_POLICY");
  const fs::path m = write("policy.textproto", manifest());
  const std::string quiet_run = "--log-level debug run --no-progress --quiet '" + m.string() + "'";
  const CliResult run = run_bricks(quiet_run, dir_);
  const CliResult validate = run_bricks("--log-level debug validate '" + m.string() + "'", dir_);
  ::setenv("OMP_WAIT_POLICY", "ACTIVE", 1);
  const CliResult chosen = run_bricks(quiet_run, dir_);
  if (outer != nullptr) {
    ::setenv("OMP_WAIT_POLICY", saved.c_str(), 1);
  } else {
    ::unsetenv("OMP_WAIT_POLICY");
  }
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("OpenMP wait policy: PASSIVE"), std::string::npos) << run.err;
  ASSERT_EQ(validate.exit_code, 0) << validate.err;
  EXPECT_NE(validate.err.find("OpenMP wait policy: unset"), std::string::npos) << validate.err;
  ASSERT_EQ(chosen.exit_code, 0) << chosen.err;
  EXPECT_NE(chosen.err.find("OpenMP wait policy: ACTIVE"), std::string::npos) << chosen.err;
}

TEST_F(CliEngine, RunTraceFileWithTextPrompts) {
  write("trace.jsonl",
        "{\"arrival_s\": 0, \"prompt\": \"Once upon a time\", \"max_tokens\": 5}\n"
        "{\"arrival_s\": 0.01, \"prompt_len\": 20, \"max_tokens\": 3, \"tenant\": 1}\n");
  fs::path m = write("trace.textproto", manifest("trace.jsonl"));
  CliResult r = run_bricks("run --no-progress '" + m.string() + "'", dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 finished"), std::string::npos) << r.out;
}

// --requests-out: one JSON line per request, failed ones with their reason, times in order.
TEST_F(CliEngine, RunWritesOneLinePerRequest) {
  write("per-request.jsonl",
        "{\"arrival_s\": 0, \"prompt_len\": 12, \"max_tokens\": 5, \"tenant\": 1}\n"
        "{\"arrival_s\": 0.01, \"prompt_len\": 600, \"max_tokens\": 3}\n"
        "{\"arrival_s\": 0.02, \"prompt_len\": 20, \"max_tokens\": 4}\n");
  fs::path m = write("per-request.textproto", manifest("per-request.jsonl"));
  CliResult r = run_bricks("run --no-progress --quiet --requests-out req.jsonl '" +
                               m.string() + "'", dir_);
  ASSERT_EQ(r.exit_code, 1) << r.err;  // one request failed
  std::istringstream lines(read_file(dir_ / "req.jsonl"));
  std::string line;
  int finished = 0, failed = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j["finish"] == "failed") {
      ++failed;
      EXPECT_EQ(j["prompt_tokens"], 600);
      EXPECT_NE(j["failure"].get<std::string>().find("exceeds the model's context"),
                std::string::npos) << line;
      EXPECT_TRUE(j["first_token_s"].is_null()) << line;
      continue;
    }
    ++finished;
    EXPECT_TRUE(j["finish"] == "length" || j["finish"] == "stop") << line;
    EXPECT_FALSE(j.contains("failure")) << line;
    EXPECT_GE(j["first_token_s"].get<double>(), j["arrival_s"].get<double>()) << line;
    EXPECT_GE(j["end_s"].get<double>(), j["first_token_s"].get<double>()) << line;
    EXPECT_GE(j["output_tokens"].get<int>(), 1) << line;
    EXPECT_LE(j["output_tokens"].get<int>(), j["prompt_tokens"] == 12 ? 5 : 4) << line;
    if (j["prompt_tokens"] == 12) {
      EXPECT_EQ(j["tenant"], 1);
    }
  }
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(failed, 1);
}

TEST_F(CliEngine, BadTraceLineNamesFileAndLine) {
  write("bad.jsonl", "{\"prompt_len\": 4}\n{not json\n");
  fs::path m = write("badtrace.textproto", manifest("bad.jsonl"));
  CliResult r = run_bricks("run --no-progress '" + m.string() + "'", dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.jsonl:2"), std::string::npos) << r.err;
}

TEST_F(CliEngine, GenerateStreamsText) {
  CliResult r = run_bricks("generate --model '" + (dir_ / "tiny.gguf").string() +
                           "' -p 'Once upon a time' -n 8 --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Once upon a time", 0), 0u) << r.out;
  EXPECT_GT(r.out.size(), std::string("Once upon a time\n").size());
}

TEST_F(CliEngine, GenerateIsDeterministicForASeed) {
  const std::string args = "generate --model '" + (dir_ / "tiny.gguf").string() +
                           "' -p 'The cat' -n 12 --temperature 0.9 --top-p 0.9 --seed 42";
  CliResult a = run_bricks(args), b = run_bricks(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
}

TEST_F(CliEngine, MissingModelFileIsOneClearError) {
  std::string text = manifest();
  text.replace(text.find("tiny.gguf"), 9, "missing.gguf");
  fs::path m = write("missing.textproto", text);
  CliResult r = run_bricks("run --no-progress '" + m.string() + "'", dir_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
}

TEST_F(CliEngine, ContextOverflowFailsThatRequestOnly) {
  write("long.jsonl",
        "{\"prompt_len\": 100000, \"max_tokens\": 5}\n"
        "{\"prompt\": \"Hello\", \"max_tokens\": 3}\n");
  fs::path m = write("long.textproto", manifest("long.jsonl"));
  CliResult r = run_bricks("run --no-progress '" + m.string() + "'", dir_);
  EXPECT_EQ(r.exit_code, 1);  // some failed
  EXPECT_NE(r.out.find("1 finished, 1 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("context"), std::string::npos) << r.out;
}

// The run keeps two requests of 2^31 - 1: only those two are drawn, so it ends at once
// instead of running out of memory.
TEST_F(CliEngine, RequestsFlagDrawsOnlyThoseRequests) {
  std::string text = manifest();
  text.replace(text.find("num_requests: 6"), 15, "num_requests: 2147483647");
  fs::path m = write("huge.textproto", text);
  CliResult r = run_bricks("run --no-progress --requests 2 '" + m.string() + "'", dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 finished"), std::string::npos) << r.out;
}

// The model file's context is known once it is open: prompts that cannot fit are refused
// there, before any is built.
TEST_F(CliEngine, PromptsPastTheContextAreRefusedBeforeDrawing) {
  std::string text = manifest();
  text.replace(text.find("prompt_len_max: 40"), 18, "prompt_len_max: 2147483647");
  fs::path m = write("long_prompts.textproto", text);
  CliResult r = run_bricks("run --no-progress '" + m.string() + "'", dir_);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error: workload.generator.prompt_len_max 2147483647 is beyond the "
                       "model's context of 512 tokens; give at most 511"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace bricks::testing
