// `bricks validate` end to end: a manifest with five mistakes prints five errors with
// line:col and exits 1; an unreadable file exits 3. (Shipped manifests: cli_manifests_test.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "cli_run.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

TEST(CliValidate, FiveMistakesFiveErrors) {
  const fs::path dir = scratch_dir("bricks-validate");
  const fs::path m = dir / "five.textproto";
  std::ofstream(m) << "name: \"five mistakes\"\n"
                      "model { builtin: \"tiny\" }\n"
                      "device { kind: \"cpu\" }\n"
                      "bricks { kind: \"scheduler\" name: \"fcfs\"\n"
                      "  params { key: \"max_num_seq\" value { int: 8 } }\n"           // unknown
                      "  params { key: \"preemption\" value { string: \"drop\" } }\n"  // choice
                      "}\n"
                      "bricks { kind: \"kv\" name: \"pagd\" }\n"  // name
                      "bricks { kind: \"attention\" name: \"cpu_paged\"\n"
                      "  params { key: \"kv_chunk_size\" value { string: \"big\" } }\n"  // type
                      "}\n"
                      "workload { generator { num_requests: 4 prompt_len_min: 9 "
                      "prompt_len_max: 3 output_len_min: 1 output_len_max: 2 } }\n";  // range
  CliResult r = run_bricks("validate '" + m.string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::regex located("five\\.textproto:[0-9]+:[0-9]+: error: ");
  const auto n = std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), located),
                               std::sregex_iterator());
  EXPECT_EQ(n, 5) << r.out;
  EXPECT_NE(r.out.find("max_num_seqs"), std::string::npos) << "did-you-mean expected\n" << r.out;
  EXPECT_NE(r.out.find("paged"), std::string::npos) << r.out;
}

TEST(CliValidate, MissingFileExitsThree) {
  CliResult r = run_bricks("validate /nonexistent/manifest.textproto");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
}

TEST(CliBasics, VersionAndHelp) {
  CliResult v = run_bricks("version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("plugin ABI 1."), std::string::npos) << v.out;
  CliResult h = run_bricks("--help");
  EXPECT_EQ(h.exit_code, 0);
  for (const char* cmd : {"list", "inspect", "validate", "run", "generate", "make-model"}) {
    EXPECT_NE(h.out.find(cmd), std::string::npos) << cmd << " missing from --help";
  }
  CliResult bad = run_bricks("no-such-command");
  EXPECT_EQ(bad.exit_code, 2);
}

// A sim device is built while validating, so what `run` would refuse (a tensor-parallel
// degree that does not divide the model, weights that do not fit) is an error here, at its
// field.
TEST(CliValidate, SimDeviceThatCannotBeBuiltIsAnError) {
  const fs::path dir = scratch_dir("bricks-validate-sim");
  auto write = [&](const std::string& name, const std::string& device) {
    const fs::path m = dir / name;
    std::ofstream(m) << "name: \"sim\"\n"
                        "device { kind: \"sim\" gpu: \"a100-80gb\" sim_model: \"llama-2-70b\"\n"
                     << device
                     << " }\n"
                        "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
                        "bricks { kind: \"kv\" name: \"paged\" }\n"
                        "bricks { kind: \"attention\" name: \"reference\" }\n"
                        "workload { generator { num_requests: 2 prompt_len_min: 8 "
                        "prompt_len_max: 8 output_len_min: 2 output_len_max: 2 } }\n";
    return m;
  };
  CliResult tp3 =
      run_bricks("validate '" + write("tp3.textproto", "  tensor_parallel: 3").string() + "'");
  EXPECT_EQ(tp3.exit_code, 1) << tp3.out << tp3.err;
  EXPECT_TRUE(std::regex_search(
      tp3.out, std::regex(R"(tp3\.textproto:3:3: error: device\.tensor_parallel: )")))
      << tp3.out;

  CliResult tp1 = run_bricks("validate '" + write("tp1.textproto", "").string() + "'");
  EXPECT_EQ(tp1.exit_code, 1) << tp1.out << tp1.err;
  EXPECT_NE(tp1.out.find("device.sim_model: "), std::string::npos) << tp1.out;
  EXPECT_NE(tp1.out.find("raise tensor_parallel or pick a larger GPU"), std::string::npos)
      << tp1.out;

  CliResult tp4 =
      run_bricks("validate '" + write("tp4.textproto", "  tensor_parallel: 4").string() + "'");
  EXPECT_EQ(tp4.exit_code, 0) << tp4.out << tp4.err;
}

// A scheduler that computes whole prompts in one step (fcfs without chunked prefill) with a
// written budget below the workload's longest prompt could never run those requests:
// validate says so at the budget, naming the prompt, for a generator and for a trace. The
// auto budget (0, the default) and chunked prefill both take any prompt.
TEST(CliValidate, PromptsTheTokenBudgetCanNeverScheduleAreAnError) {
  const fs::path dir = scratch_dir("bricks-validate-limits");
  std::ofstream(dir / "long.jsonl")
      << "{\"arrival_s\": 0, \"prompt_len\": 100, \"max_tokens\": 4}\n"
         "{\"arrival_s\": 1, \"prompt_len\": 900, \"max_tokens\": 4}\n";
  auto write = [&](const std::string& name, const std::string& params,
                   const std::string& workload) {
    const fs::path m = dir / name;
    std::ofstream(m) << "model { builtin: \"small\" }\n"  // a context of 1024 tokens
                        "bricks { kind: \"scheduler\" name: \"fcfs\"\n"
                     << params
                     << "}\n"
                        "bricks { kind: \"kv\" name: \"paged\" }\n"
                        "bricks { kind: \"attention\" name: \"reference\" }\n"
                        "workload { "
                     << workload << " }\n";
    return "validate '" + m.string() + "'";
  };
  const std::string budget = "  params { key: \"max_num_batched_tokens\" value { int: 256 } }\n";
  const std::string chunked = "  params { key: \"enable_chunked_prefill\" value { bool: true } }\n";
  const std::string generated =
      "generator { num_requests: 4 prompt_len_min: 8 prompt_len_max: 600 output_len_min: 1 "
      "output_len_max: 4 }";

  CliResult gen = run_bricks(write("gen.textproto", budget, generated));
  EXPECT_EQ(gen.exit_code, 1) << gen.out << gen.err;
  EXPECT_TRUE(std::regex_search(gen.out, std::regex(R"(gen\.textproto:3:[0-9]+: error: )")))
      << gen.out;
  EXPECT_NE(gen.out.find("max_num_batched_tokens 256 is below the workload's longest prompt: "
                         "workload.generator.prompt_len_max 600"),
            std::string::npos)
      << gen.out;
  EXPECT_NE(gen.out.find("raise max_num_batched_tokens to at least 600"), std::string::npos)
      << gen.out;

  CliResult trace = run_bricks(write("trace.textproto", budget, "trace: \"long.jsonl\""));
  EXPECT_EQ(trace.exit_code, 1) << trace.out << trace.err;
  EXPECT_NE(
      trace.out.find("a trace row of 900 prompt tokens (" + (dir / "long.jsonl").string() + ":2)"),
      std::string::npos)
      << trace.out;

  for (const auto& [name, params] :
       {std::pair{"auto.textproto", std::string()}, {"chunked.textproto", budget + chunked}}) {
    CliResult ok = run_bricks(write(name, params, generated));
    EXPECT_EQ(ok.exit_code, 0) << name << "\n" << ok.out << ok.err;
  }
}

}  // namespace
}  // namespace bricks::testing
