// Tokenizers from real vocabularies (tests/data, see its README) against ids worked out by
// hand: the pieces were looked up in each tokenizer.json and merged by the model's rule
// (lowest merge rank first), independently of this code. Traces are in the comments.
#include <gtest/gtest.h>
#include <zlib.h>

#include <memory>
#include <string>

#include "bricks/model/tokenizer.h"

namespace bricks::model {
namespace {

std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

const Tokenizer& llama2() {
  static const std::unique_ptr<Tokenizer> t = [] {
    const std::string path = BRICKS_SOURCE_DIR "/tests/data/llama2-tokenizer.json.gz";
    return load_tokenizer_json(gunzip(path), path);
  }();
  return *t;
}

const Tokenizer& qwen3() {
  static const std::unique_ptr<Tokenizer> t = [] {
    const std::string path = BRICKS_SOURCE_DIR "/tests/data/qwen3-tokenizer.json.gz";
    return load_tokenizer_json(gunzip(path), path);
  }();
  return *t;
}

using Ids = std::vector<int32_t>;

// SentencePiece-style BPE with byte fallback (32000 tokens).
TEST(TokenizerLlama2, Basics) {
  const Tokenizer& t = llama2();
  EXPECT_EQ(t.vocab_size(), 32000);
  EXPECT_EQ(t.bos(), 1);
  EXPECT_EQ(t.eos(), 2);
}

TEST(TokenizerLlama2, KnownAnswers) {
  const Tokenizer& t = llama2();
  // "▁Hello▁world": o+r(10) ▁+w(15) e+l(45) ▁+H(151) l+d(204) el+l(310) ▁w+or(1483)
  // ▁wor+ld(2614) ell+o(9594) ▁H+ello(47271) -> ▁Hello 22557, ▁world 1526.
  EXPECT_EQ(t.encode("Hello world", true), (Ids{1, 22557, 1526}));
  EXPECT_EQ(t.encode("Hello world", false), (Ids{22557, 1526}));
  // "▁Hi!": ▁+H(151) ▁H+i(33112); no merge with "!" -> ▁Hi 15359, ! 28808.
  EXPECT_EQ(t.encode("Hi!", false), (Ids{15359, 28808}));
  // "▁12▁apples": ▁+a(3) e+s(14) p+l(256) ▁a+p(1329) pl+es(5596); digits never merge
  // -> ▁ 28705, 1 28740, 2 28750, ▁ap 979, ples 2815.
  EXPECT_EQ(t.encode("12 apples", false), (Ids{28705, 28740, 28750, 979, 2815}));
  // "▁llama🦙": ▁+l(52) a+m(64) am+a(5530) ▁l+l(19344) -> ▁ll 8814, ama 2786; the emoji
  // is not in the vocabulary: its bytes F0 9F A6 99 become <0xF0> 243 <0x9F> 162 <0xA6> 169
  // <0x99> 156 (byte tokens start at id 3).
  EXPECT_EQ(t.encode("llama\xF0\x9F\xA6\x99", false), (Ids{8814, 2786, 243, 162, 169, 156}));
  // A newline has no piece: <0x0A> is 13; "world" after it gets no ▁: 9471.
  EXPECT_EQ(t.encode("Hello\nworld", false), (Ids{22557, 13, 9471}));
  EXPECT_EQ(t.encode("", false), Ids{});
  EXPECT_EQ(t.encode("", true), Ids{1});
}

TEST(TokenizerLlama2, DecodeRoundTrips) {
  const Tokenizer& t = llama2();
  for (const char* s : {"Hello world", "Hi!", "12 apples", "llama\xF0\x9F\xA6\x99",
                        "Hello\nworld", "  two leading spaces", "caf\xC3\xA9 na\xC3\xAFve"}) {
    EXPECT_EQ(t.decode(t.encode(s, true)), s) << s;
  }
  EXPECT_EQ(t.piece(1526), " world");
  EXPECT_EQ(t.piece(13), "\n");
  EXPECT_EQ(t.piece(1), "");  // control
  EXPECT_EQ(t.token_text(1526), "\xE2\x96\x81world");
}

// Byte-level BPE with the Qwen2 pre-tokenizer (151643 tokens + 26 added).
TEST(TokenizerQwen3, KnownAnswers) {
  const Tokenizer& t = qwen3();
  EXPECT_EQ(t.vocab_size(), 151669);
  EXPECT_EQ(t.bos(), -1);  // Qwen adds no BOS
  EXPECT_EQ(t.eos(), 151643);  // <|endoftext|>
  // Words "Hello", " world". "Hello": e+l(45) l+o(129) el+lo(4535) H+ello(9451) -> 9707;
  // " world" is "Ġworld" in byte-level text -> 1879.
  EXPECT_EQ(t.encode("Hello world", true), (Ids{9707, 1879}));
  // Words "I", "'m", " ", "4", "2", "." (one digit per word; the space before a digit
  // stands alone): I 40, 'm 2776, Ġ 220, 4 19, 2 17, . 13.
  EXPECT_EQ(t.encode("I'm 42.", false), (Ids{40, 2776, 220, 19, 17, 13}));
  // " café" is ĠcafÃ© (é = C3 A9 -> Ã ©) -> 51950; "!" -> 0.
  EXPECT_EQ(t.encode(" caf\xC3\xA9!", false), (Ids{51950, 0}));
  // 你好 = E4 BD A0 E5 A5 BD -> ä½łå¥½ -> 108386.
  EXPECT_EQ(t.encode("\xE4\xBD\xA0\xE5\xA5\xBD", false), (Ids{108386}));
  // "a", "\n\n" (ĊĊ 271), "b".
  EXPECT_EQ(t.encode("a\n\nb", false), (Ids{64, 271, 65}));
  // Control tokens written in the text are recognised.
  EXPECT_EQ(t.encode("<|im_start|>a", false), (Ids{151644, 64}));
  EXPECT_EQ(t.encode("", false), Ids{});
}

TEST(TokenizerQwen3, DecodeRoundTrips) {
  const Tokenizer& t = qwen3();
  for (const char* s : {"Hello world", "I'm 42.", " caf\xC3\xA9!", "\xE4\xBD\xA0\xE5\xA5\xBD",
                        "a\n\nb", "  spaces   and\ttabs\n", "x = 12345 + 0.5;"}) {
    EXPECT_EQ(t.decode(t.encode(s, false)), s) << s;
  }
  EXPECT_EQ(t.piece(1879), " world");
  EXPECT_EQ(t.piece(151644), "");  // control tokens print nothing
}

}  // namespace
}  // namespace bricks::model
