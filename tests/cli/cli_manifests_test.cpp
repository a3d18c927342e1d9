// Every manifest shipped in manifests/ validates and runs through `bricks run`, on its
// first request; cuda.textproto validates where the cuda_paged brick was built and, on a
// machine without a GPU, fails at once with the device's one-line reason. They run in a copy of
// manifests/ in the test process's scratch directory, beside the files their header comments tell
// an operator to make first (the merge checkpoints, the LoRA adapters); the builtin models are made
// there and removed at exit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_run.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

const fs::path& work() { return scratch_dir("bricks-shipped-manifests"); }

// The files the merge and lora manifests name, made as their comments say.
const std::vector<std::pair<std::string, std::string>> kPrepared = {
    {"models/merge/tiny-base.gguf", "make-model --preset tiny --seed 11 --out "},
    {"models/merge/tiny-ft1.gguf", "make-model --preset tiny --seed 12 --out "},
    {"models/merge/tiny-ft2.gguf", "make-model --preset tiny --seed 13 --out "},
    {"models/lora/tiny-a.gguf",
     "make-adapter --preset tiny --format gguf --rank 8 --alpha 16 --targets attn_q,attn_v "
     "--seed 1 --out "},
    {"models/lora/tiny-b-peft",
     "make-adapter --preset tiny --format peft --rank 16 --alpha 16 "
     "--targets attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down --seed 2 --out "},
};

// The shipped manifests' file names, read from the source tree (the scratch copy holds the same):
// the first-request cases are listed from them, one each, so that the runs spread over the
// program's shards.
std::vector<std::string> shipped_manifest_names() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(BRICKS_SOURCE_DIR) / "manifests")) {
    if (e.path().extension() == ".textproto") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ShippedManifests : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path& dir = work();
    // Once per process: both suites below set up the same directory.
    if (!fs::exists(dir / "manifests")) {
      fs::copy(fs::path(BRICKS_SOURCE_DIR) / "manifests", dir / "manifests",
               fs::copy_options::recursive);
    }
    for (const auto& [file, args] : kPrepared) {
      if (fs::exists(dir / file)) continue;
      fs::create_directories((dir / file).parent_path());
      CliResult r = run_bricks(args + "'" + file + "'", dir);
      ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.out << r.err;
    }
  }
};

// The cuda device's manifest, which needs the cuda_paged brick (built with the CUDA
// Toolkit) and a GPU.
bool needs_gpu(const fs::path& m) { return m.filename() == "cuda.textproto"; }

bool cuda_paged_built() {
  return fs::exists(fs::path(BRICKS_PLUGIN_BUILD_DIR) / "libbricks_attention_cuda_paged.so");
}

TEST_F(ShippedManifests, AllValidate) {
  const std::vector<std::string> files = shipped_manifest_names();
  ASSERT_GE(files.size(), 10u);
  for (const std::string& name : files) {
    const fs::path m = work() / "manifests" / name;
    CliResult r = run_bricks("validate 'manifests/" + name + "'", work());
    if (needs_gpu(m) && !cuda_paged_built()) {
      EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
      EXPECT_NE(r.out.find("unknown attention brick 'cuda_paged'"), std::string::npos) << r.out;
      continue;
    }
    EXPECT_EQ(r.exit_code, 0) << m << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find(": ok"), std::string::npos) << r.out;
  }
}

class ShippedManifestFirstRequest : public ShippedManifests,
                                    public ::testing::WithParamInterface<std::string> {};

TEST_P(ShippedManifestFirstRequest, Runs) {
  const fs::path m = work() / "manifests" / GetParam();
  const std::string stem = m.stem().string();
  const fs::path json = work() / "out" / (stem + ".json");
  CliResult r =
      run_bricks("run 'manifests/" + GetParam() +
                     "' --requests 1 --no-progress --quiet --report-json '" + json.string() + "'",
                 work());
  if (needs_gpu(m) && r.exit_code != 0) {
    // No GPU here (or no cuda_paged): one error naming the device, before any model is made.
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    const std::string said = r.out + r.err;
    const bool named = said.find("device.kind \"cuda\": ") != std::string::npos ||
                       said.find("unknown attention brick 'cuda_paged'") != std::string::npos;
    EXPECT_TRUE(named) << r.out << r.err;
    EXPECT_FALSE(fs::exists(work() / "models" / "1b-bf16.gguf"));
    return;
  }
  ASSERT_EQ(r.exit_code, 0) << m << "\n" << r.out << r.err;
  const nlohmann::json rep = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(rep["requests"]["submitted"], 1) << stem;
  EXPECT_EQ(rep["requests"]["finished"], 1) << stem;
  EXPECT_GT(rep["tokens"]["output"].get<int64_t>(), 0) << stem;
}

INSTANTIATE_TEST_SUITE_P(Each, ShippedManifestFirstRequest,
                         ::testing::ValuesIn(shipped_manifest_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// --trace-out on a disaggregated cluster: a named track per instance, one slice per step
// of each (as many as the report counts), the prompts computed on the prefill instance and
// arrived on the decode instance.
TEST_F(ShippedManifests, DisaggTimelineHasATrackPerInstance) {
  CliResult r = run_bricks("run manifests/disagg.textproto --requests 20 --no-progress --quiet "
                           "--report-json disagg-report.json --trace-out disagg-trace.json",
                           work());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto trace = nlohmann::json::parse(read_file(work() / "disagg-trace.json"));
  const auto report = nlohmann::json::parse(read_file(work() / "disagg-report.json"));
  std::map<int64_t, std::string> tracks;
  std::map<int64_t, int64_t> prefill_tokens, decode_tokens, arrived_tokens;
  int64_t slices = 0;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name") tracks[e["pid"]] = e["args"]["name"];
    if (e["ph"] != "X") continue;
    ++slices;
    prefill_tokens[e["pid"]] += e["args"]["prefill_tokens"].get<int64_t>();
    decode_tokens[e["pid"]] += e["args"]["decode_tokens"].get<int64_t>();
    arrived_tokens[e["pid"]] += e["args"].value("kv_arrived_tokens", int64_t{0});
  }
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[0], "instance 0 (prefill)");
  EXPECT_EQ(tracks[1], "instance 1 (decode)");
  EXPECT_EQ(slices, report["steps"].get<int64_t>());
  EXPECT_GT(prefill_tokens[0], 0);
  EXPECT_EQ(decode_tokens[0], 0);  // the prefill instance hands off after the first token
  EXPECT_GT(decode_tokens[1], 0);
  // The prompts' KV arrived with the requests; the decode instance computes only the KV of
  // each request's first token, which the prefill instance sampled but did not store.
  EXPECT_EQ(arrived_tokens[1], prefill_tokens[0]);
  EXPECT_EQ(prefill_tokens[1], 20);
  EXPECT_EQ(arrived_tokens[0], 0);
}

}  // namespace
}  // namespace bricks::testing
