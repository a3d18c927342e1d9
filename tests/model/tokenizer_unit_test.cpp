// Tokenizer pieces on small hand-made inputs: the pre-tokenizers, score- vs rank-ordered
// merging, byte fallback and special tokens.
#include <gtest/gtest.h>

#include <cstdio>

#include "bricks/model/tokenizer.h"
#include "pretokenize.h"

namespace bricks::model {
namespace {

using Words = std::vector<std::string_view>;

TEST(PreTokenize, Gpt2) {
  EXPECT_EQ(pretokenize("Hello world's  end 123!?", PreTokenizer::Gpt2),
            (Words{"Hello", " world", "'s", " ", " end", " 123", "!?"}));
  EXPECT_EQ(pretokenize("a  ", PreTokenizer::Gpt2), (Words{"a", "  "}));
  EXPECT_EQ(pretokenize("", PreTokenizer::Gpt2), Words{});
}

TEST(PreTokenize, Llama3AndQwen2) {
  EXPECT_EQ(pretokenize("12345", PreTokenizer::Llama3), (Words{"123", "45"}));
  EXPECT_EQ(pretokenize("12345", PreTokenizer::Qwen2), (Words{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(pretokenize("I'M here", PreTokenizer::Llama3), (Words{"I", "'M", " here"}));
  EXPECT_EQ(pretokenize("Hello\n\nworld", PreTokenizer::Qwen2), (Words{"Hello", "\n\n", "world"}));
  EXPECT_EQ(pretokenize("a  \n x", PreTokenizer::Qwen2), (Words{"a", "  \n", " x"}));
  EXPECT_EQ(pretokenize("(x)...\n", PreTokenizer::Qwen2), (Words{"(x", ")...\n"}));
  // Non-ASCII letters count as letters; a lone invalid byte is kept as its own piece.
  EXPECT_EQ(pretokenize(" caf\xC3\xA9 \xFF", PreTokenizer::Qwen2),
            (Words{" caf\xC3\xA9", " \xFF"}));
}

SpmVocab small_spm() {
  SpmVocab v;
  v.tokens = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    v.tokens.push_back(buf);
  }
  // ids 259.. : pieces and scores
  const std::pair<const char*, float> pieces[] = {
      {"\xE2\x96\x81", -10}, {"a", -10}, {"b", -10}, {"c", -10},
      {"ab", -2}, {"bc", -1}, {"\xE2\x96\x81" "a", -3}, {"\xE2\x96\x81" "ab", -0.5}};
  v.scores.assign(v.tokens.size(), 0.f);
  for (const auto& [p, s] : pieces) {
    v.tokens.push_back(p);
    v.scores.push_back(s);
  }
  v.bos = 1;
  v.eos = 2;
  v.unk = 0;
  return v;
}

TEST(SpmTokenizer, MergesByScore) {
  SpmVocab v = small_spm();
  v.add_space_prefix = false;
  auto t = make_spm_tokenizer(v, "test");
  // (a,b) -> ab scores -2, (b,c) -> bc scores -1: bc merges first, leaving a + bc.
  EXPECT_EQ(t->encode("abc", false), (std::vector<int32_t>{260, 264}));
  // "▁abc": (▁,a) -3, (a,b) -2, (b,c) -1 -> bc; then (▁,a) -3 -> ▁a; ▁a+bc is no piece.
  v.add_space_prefix = true;
  auto t2 = make_spm_tokenizer(v, "test");
  EXPECT_EQ(t2->encode("abc", true), (std::vector<int32_t>{1, 265, 264}));
  // "▁ab": (a,b) -2 beats (▁,a) -3 -> ▁ + ab; ▁+ab -> ▁ab (-0.5).
  EXPECT_EQ(t2->encode("ab", false), (std::vector<int32_t>{266}));
  // Unknown characters fall back to bytes: "é" = C3 A9 -> ids 3 + 0xC3, 3 + 0xA9.
  EXPECT_EQ(t2->encode("\xC3\xA9", false), (std::vector<int32_t>{259, 3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(t2->decode(t2->encode("\xC3\xA9 ab", true)), "\xC3\xA9 ab");
  // Control tokens in the text become their ids; a space prefix follows them.
  EXPECT_EQ(t2->encode("a</s>a", false), (std::vector<int32_t>{265, 2, 265}));
}

TEST(SpmTokenizer, MergesByRankWhenGiven) {
  SpmVocab v = small_spm();
  v.add_space_prefix = false;
  v.merges = {{"a", "b"}, {"b", "c"}};  // rank beats score: ab first
  auto t = make_spm_tokenizer(v, "test");
  EXPECT_EQ(t->encode("abc", false), (std::vector<int32_t>{263, 262}));
}

TEST(SpmTokenizer, RejectsInconsistentVocab) {
  SpmVocab v = small_spm();
  v.scores.pop_back();
  EXPECT_THROW(make_spm_tokenizer(v, "x"), ModelError);
  SpmVocab w = small_spm();
  w.bos = 100000;
  EXPECT_THROW(make_spm_tokenizer(w, "x"), ModelError);
}

TEST(TokenizerJson, RejectsOtherModels) {
  EXPECT_THROW(load_tokenizer_json(R"({"model": {"type": "Unigram", "vocab": []}})", "t.json"), ModelError);
  EXPECT_THROW(load_tokenizer_json("{not json", "t.json"), ModelError);
  EXPECT_THROW(load_tokenizer_json(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})", "t.json"),
               ModelError);  // neither byte-level nor SentencePiece-style
}

}  // namespace
}  // namespace bricks::model
