// `bricks tokenize` end to end: the ids it prints are the library tokenizer's on the same file,
// pieces are escaped so control bytes and split UTF-8 characters show, and the errors users meet.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "bricks/model/model.h"
#include "cli_run.h"
#include "tiny_model_suite.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

class CliTokenize : public TinyModelSuite {
 protected:
  static void SetUpTestSuite() {
    make_dir_with_tiny_model("bricks-cli-tokenize");
    model_ = model::Model::open(dir_ / "tiny.gguf");
  }
  static void TearDownTestSuite() { model_.reset(); }
  static std::string tiny() { return "--model '" + (dir_ / "tiny.gguf").string() + "' "; }
  static std::vector<int32_t> encode(const std::string& text, bool bos) {
    return model_->tokenizer().encode(text, bos);
  }
  static std::string line_of(const std::vector<int32_t>& ids) {
    std::string s;
    for (size_t i = 0; i < ids.size(); ++i) s += (i > 0 ? " " : "") + std::to_string(ids[i]);
    return s + "\n";
  }
  // `text` as one shell word: written to a file and read back with $(cat), since /bin/sh has
  // no $'...' quoting (text must not end with a newline, which $(...) drops).
  static std::string as_arg(const std::string& file, const std::string& text) {
    return "\"$(cat '" + write(file, text).string() + "')\"";
  }
  inline static std::unique_ptr<model::Model> model_;
};

TEST_F(CliTokenize, PrintsTheTokenizersIds) {
  CliResult r = run_bricks("tokenize " + tiny() + "'Once upon a time'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, line_of(encode("Once upon a time", true)));
  EXPECT_EQ(r.out.rfind("1 ", 0), 0u) << r.out;  // BOS first
  r = run_bricks("tokenize --no-bos " + tiny() + "'Once upon a time'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, line_of(encode("Once upon a time", false)));
  // Control tokens written in the text become their ids.
  r = run_bricks("tokenize --no-bos " + tiny() + "'</s>'");
  EXPECT_EQ(r.out, "2\n");
}

// A tab and a newline are byte tokens, and so is each byte of the euro sign, which the
// vocabulary does not have: each shows escaped, one token per line.
TEST_F(CliTokenize, PiecesAreEscaped) {
  const std::string text = "Once\tupon\n\xE2\x82\xAC";
  const std::vector<int32_t> ids = encode(text, true);
  CliResult r = run_bricks("tokenize --pieces " + tiny() + as_arg("pieces.txt", text));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), ids.size()) << r.out;
  EXPECT_EQ(lines.front(), "1\t<s>");
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(lines[i].substr(0, lines[i].find('\t')), std::to_string(ids[i]));
  }
  EXPECT_NE(r.out.find("\t\\t\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\t\\n\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\t\\xE2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\t\\x82\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\t\\xAC\n"), std::string::npos) << r.out;
}

TEST_F(CliTokenize, Json) {
  const std::string text = "The cat \xE2\x82\xAC";
  CliResult r = run_bricks("tokenize --json " + tiny() + as_arg("json.txt", text));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"ids\":[1,", 0), 0u) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"].get<std::vector<int32_t>>(), encode(text, true));
  ASSERT_EQ(j["pieces"].size(), j["ids"].size());
  EXPECT_EQ(j["pieces"][0], "<s>");
  std::string joined;
  for (size_t i = 1; i < j["pieces"].size(); ++i) joined += j["pieces"][i].get<std::string>();
  // The euro sign's three byte tokens are not UTF-8 one by one: each becomes U+FFFD.
  EXPECT_NE(joined.find("cat"), std::string::npos) << joined;
  EXPECT_NE(joined.find("\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos) << joined;
}

TEST_F(CliTokenize, ReadsStandardInputForDash) {
  const fs::path in = write("prompt.txt", "<|im_start|>user\nHi<|im_end|>\n");
  const fs::path out = dir_ / "stdin-out.txt";
  const std::string cmd = std::string("'") + BRICKS_CLI + "' tokenize " + tiny() + "- <'" +
                          in.string() + "' >'" + out.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(read_file(out), line_of(encode("<|im_start|>user\nHi<|im_end|>\n", true)));
}

// --builtin makes the preset under ./models, as run and generate do, then tokenizes with it.
TEST_F(CliTokenize, BuiltinModel) {
  const fs::path cwd = scratch_dir("bricks-cli-tokenize-builtin");
  CliResult r = run_bricks("tokenize --builtin tiny 'Once upon a time'", cwd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(cwd / "models" / "tiny-f32.gguf"));
  EXPECT_EQ(r.out, line_of(encode("Once upon a time", true)));  // same vocabulary as tiny.gguf
}

TEST_F(CliTokenize, Errors) {
  CliResult r = run_bricks("tokenize --model '" + (dir_ / "missing.gguf").string() + "' hi");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_bricks("tokenize " + tiny() + "--builtin tiny hi");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_bricks("tokenize " + tiny() + "--pieces --json hi");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_bricks("tokenize " + tiny());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const fs::path not_model = write("notes.txt", "not a model");
  r = run_bricks("tokenize --model '" + not_model.string() + "' hi");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("not a model file"), std::string::npos) << r.err;
  r = run_bricks("tokenize --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--pieces"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace bricks::testing
