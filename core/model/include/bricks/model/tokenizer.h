// Tokenizers of Llama-family models: SentencePiece-style BPE (Llama, Mistral, TinyLlama) and
// GPT-2 byte-level BPE (Llama-3, Qwen2). Both come from the model file: GGUF's
// tokenizer.ggml.* keys, or a Hugging Face tokenizer.json beside safetensors.
//
// Thread safety: a Tokenizer is immutable after construction; all methods are const and may
// be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bricks/model/model_error.h"

namespace bricks::model {

class Tokenizer {
 public:
  virtual ~Tokenizer();
  // Token ids of `text` (UTF-8; invalid bytes are kept and encoded as bytes). Control tokens
  // written literally in the text (e.g. "<|im_start|>") become their ids. `add_bos` prepends
  // bos() when the tokenizer has one.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos) const = 0;
  // The text of `ids`; control tokens produce nothing; ids out of range are skipped.
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  // The bytes token `id` adds to a stream of generated text (may be part of a UTF-8 character);
  // empty for control tokens and ids out of range.
  virtual std::string piece(int32_t id) const = 0;
  virtual int32_t bos() const = 0;  // -1 when the vocabulary has none
  virtual int32_t eos() const = 0;  // -1 when the vocabulary has none
  virtual int32_t vocab_size() const = 0;
  // The token's text as stored in the vocabulary ("▁the", "Ġthe", "<0x0A>"); empty if out of range.
  virtual const std::string& token_text(int32_t id) const = 0;
};

// Token kinds, numbered as GGUF's tokenizer.ggml.token_type.
enum class TokenType : int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4,
                                 Unused = 5, Byte = 6 };

// A vocabulary for SentencePiece-style BPE. Pairs are merged by the score of the merged
// piece (highest first), or, when `merges` is not empty, by the rank of the pair in it
// (lowest first, as Hugging Face's BPE model does).
struct SpmVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;       // empty: all 0
  std::vector<TokenType> types;    // empty: derived (<0xXX> is Byte, <s> </s> <unk> Control)
  std::vector<std::pair<std::string, std::string>> merges;
  int32_t bos = -1, eos = -1, unk = -1;
  bool add_space_prefix = true;
  bool add_bos = true;
};

// Pre-tokenizer of byte-level BPE: how text is split into words before merging.
enum class PreTokenizer { Gpt2, Llama3, Qwen2 };

struct BpeVocab {
  std::vector<std::string> tokens;  // byte-level text (GPT-2's byte-to-unicode mapping)
  std::vector<TokenType> types;     // empty: all Normal
  std::vector<std::pair<std::string, std::string>> merges;  // by rank
  PreTokenizer pre = PreTokenizer::Gpt2;
  int32_t bos = -1, eos = -1;
  bool add_bos = false;
  bool ignore_merges = false;  // a word that is itself a token is not merged (Llama-3)
};

// Both throw ModelError (prefixed by `where`) on an inconsistent vocabulary.
std::unique_ptr<Tokenizer> make_spm_tokenizer(SpmVocab vocab, const std::string& where);
std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeVocab vocab, const std::string& where);

// A tokenizer from the text of a Hugging Face tokenizer.json whose model is BPE: with
// byte_fallback (SentencePiece-style) or a ByteLevel pre-tokenizer (GPT-2-style). `where`
// names the file in errors. Throws ModelError for other tokenizer models.
// `bos`/`eos` override the ids found in the file (the post-processor's leading special
// token, and </s>, <|endoftext|> or <|end_of_text|>) when given.
std::unique_ptr<Tokenizer> load_tokenizer_json(std::string_view json_text,
                                               const std::string& where,
                                               std::optional<int32_t> bos = std::nullopt,
                                               std::optional<int32_t> eos = std::nullopt);

}  // namespace bricks::model
