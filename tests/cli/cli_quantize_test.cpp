// `bricks quantize` end to end: make-model's f16 tiny model quantized to the usual types
// runs; the tensor types follow llama.cpp's rule; the errors users meet are one clear line.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "bricks/model/gguf.h"
#include "cli_run.h"
#include "scratch_dir.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

class CliQuantize : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = scratch_dir("bricks-cli-quantize");
    CliResult r =
        run_bricks("make-model --preset tiny --dtype f16 --out '" + path("tiny-f16.gguf") + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static std::string path(const std::string& name) { return (dir_ / name).string(); }
  static CliResult quantize(const std::string& in, const std::string& out,
                            const std::string& rest) {
    return run_bricks("quantize '" + path(in) + "' '" + path(out) + "' " + rest);
  }
  // Greedy text from `model`: exit 0 and more than the prompt.
  static void expect_generates(const std::string& model) {
    CliResult r =
        run_bricks("generate --model '" + path(model) + "' -p 'Once upon a time' -n 8 --threads 2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("Once upon a time", 0), 0u) << r.out;
    EXPECT_GT(r.out.size(), std::string("Once upon a time\n").size()) << r.out;
  }
  inline static fs::path dir_;
};

TEST_F(CliQuantize, Q4KMRunsAndFollowsTheMix) {
  CliResult r = quantize("tiny-f16.gguf", "tiny-q4km.gguf", "--type q4_k_m");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote " + path("tiny-q4km.gguf") + " (q4_k_m): 56 tensors"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("q5_0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bits per weight"), std::string::npos) << r.out;
  // tiny's rows of 288 values are not whole super-blocks: said once, on stderr.
  EXPECT_NE(r.err.find("stored as q5_0 instead of q4_k"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("tiny-q4km.gguf.partial")));

  const auto f = model::GgufFile::open(path("tiny-q4km.gguf"));
  EXPECT_EQ(f->get_int("general.file_type"), 15);
  EXPECT_EQ(f->find_tensor("blk.2.ffn_down.weight")->dtype, model::DType::Q6_K);
  EXPECT_EQ(f->find_tensor("blk.3.ffn_down.weight")->dtype, model::DType::Q4_K);
  EXPECT_EQ(f->find_tensor("blk.3.attn_q.weight")->dtype, model::DType::Q5_0);
  EXPECT_EQ(f->find_tensor("blk.3.ffn_norm.weight")->dtype, model::DType::F32);
  expect_generates("tiny-q4km.gguf");
}

TEST_F(CliQuantize, Q4_0RunsAndTypesIgnoreCase) {
  CliResult r = quantize("tiny-f16.gguf", "tiny-q4_0.gguf", "--type Q4_0 --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(q4_0)"), std::string::npos) << r.out;
  const auto f = model::GgufFile::open(path("tiny-q4_0.gguf"));
  EXPECT_EQ(f->get_int("general.file_type"), 2);
  EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->dtype, model::DType::Q4_0);
  expect_generates("tiny-q4_0.gguf");
}

TEST_F(CliQuantize, ExistingOutputNeedsForce) {
  ASSERT_EQ(quantize("tiny-f16.gguf", "taken.gguf", "--type q8_0").exit_code, 0);
  const auto size = fs::file_size(path("taken.gguf"));
  CliResult r = quantize("tiny-f16.gguf", "taken.gguf", "--type q4_0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(path("taken.gguf") + " exists; pass --force"), std::string::npos) << r.err;
  EXPECT_EQ(fs::file_size(path("taken.gguf")), size);  // untouched
  r = quantize("tiny-f16.gguf", "taken.gguf", "--type q4_0 --force");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(fs::file_size(path("taken.gguf")), size);
}

TEST_F(CliQuantize, BadTypeIsOneClearError) {
  CliResult r = quantize("tiny-f16.gguf", "bad.gguf", "--type q4_k_x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown --type 'q4_k_x'; did you mean 'q4_k_m'?"), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = quantize("tiny-f16.gguf", "bad.gguf", "--type iq2_xxs");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("q4_k_m"), std::string::npos) << r.err;  // the list of types
  EXPECT_FALSE(fs::exists(path("bad.gguf")));
}

TEST_F(CliQuantize, UnreadableInputNamesTheFile) {
  CliResult r = quantize("missing.gguf", "out.gguf", "--type q4_0");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find(path("missing.gguf") + ": no such file"), std::string::npos) << r.err;
  std::ofstream(dir_ / "notes.gguf") << "these are notes, not a model\n";
  r = quantize("notes.gguf", "out.gguf", "--type q4_0");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("notes.gguf is not a GGUF file"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("out.gguf")));
}

TEST_F(CliQuantize, QuantizedInputIsDecodedWithANote) {
  ASSERT_EQ(run_bricks("make-model --preset tiny --dtype q8_0 --out '" + path("tiny-q8.gguf") + "'")
                .exit_code,
            0);
  CliResult r = quantize("tiny-q8.gguf", "tiny-q8-q4.gguf", "--type q4_0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("holds quantized tensors (42 q8_0); they are decoded to f32"),
            std::string::npos)
      << r.err;
}

TEST_F(CliQuantize, MakeModelTakesTheMixes) {
  CliResult r =
      run_bricks("make-model --preset tiny --dtype q5_k_m --out '" + path("made-q5km.gguf") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto f = model::GgufFile::open(path("made-q5km.gguf"));
  EXPECT_EQ(f->get_int("general.file_type"), 17);
  EXPECT_EQ(f->find_tensor("blk.5.ffn_down.weight")->dtype, model::DType::Q6_K);
  EXPECT_EQ(f->find_tensor("blk.4.ffn_down.weight")->dtype, model::DType::Q5_K);
  EXPECT_EQ(f->find_tensor("blk.4.attn_k.weight")->dtype, model::DType::Q5_1);
  expect_generates("made-q5km.gguf");
}

TEST_F(CliQuantize, HelpExplainsTheTypes) {
  CliResult r = run_bricks("quantize --help");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"q4_k_m", "q5_k_m", "q6_k", "bits per weight", "'More bits' layers",
                        "q4_K to q5_0", "--force"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
}

}  // namespace
}  // namespace bricks::testing
