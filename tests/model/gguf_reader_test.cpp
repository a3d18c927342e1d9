// GGUF reading: a valid file opens as a Model; each kind of damage gives a ModelError that
// names the file and the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "bricks/model/model.h"
#include "test_files.h"

namespace bricks::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::SmallLlama;

// The ModelError message of opening `p` (fails the test when open succeeds).
std::string open_error(const std::filesystem::path& p) {
  try {
    Model::open(p);
  } catch (const ModelError& e) {
    return e.what();
  }
  ADD_FAILURE() << "opening " << p << " succeeded";
  return {};
}

TEST(GgufReader, OpensValidModelAndReadsConfigAndTensors) {
  const auto p = testing::temp_dir() / "ok.gguf";
  testing::write_small_llama(p);
  auto m = Model::open(p);
  const LlamaConfig& c = m->config();
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.name, "small-test");
  EXPECT_EQ(c.hidden, 64);
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.ffn, 96);
  EXPECT_EQ(c.vocab_size, 40);
  EXPECT_EQ(c.context_length, 128);
  EXPECT_FLOAT_EQ(c.rms_eps, 1e-6f);
  EXPECT_FLOAT_EQ(c.rope_theta, 10000.f);  // default when the key is absent
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_FALSE(m->has_tokenizer());
  EXPECT_THROW(m->tokenizer(), ModelError);
  EXPECT_EQ(m->chat_template(), "");  // the file has no tokenizer.chat_template

  const TensorView& q = m->tensor("blk.1.attn_q.weight");
  EXPECT_EQ(q.dtype, DType::F32);
  EXPECT_EQ(q.ne, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(q.nbytes, 64u * 64u * 4u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(q.data) % 32, 0u);  // aligned as the file says
  // token_embd is tensor 0, blk.0.attn_norm tensor 1 (see write_small_llama's pattern).
  const auto* norm = static_cast<const float*>(m->tensor("blk.0.attn_norm.weight").data);
  EXPECT_EQ(norm[0], 1.5f);
  EXPECT_EQ(norm[3], 4.5f);
  // Tied output: output.weight resolves to the embedding.
  EXPECT_EQ(m->find("output.weight"), m->find("token_embd.weight"));
  EXPECT_EQ(m->find("blk.9.attn_q.weight"), nullptr);
  EXPECT_THAT([&] { m->tensor("nope.weight"); },
              ::testing::ThrowsMessage<ModelError>(HasSubstr("no tensor 'nope.weight'")));
}

TEST(GgufReader, ChatTemplateComesFromTheMetadata) {
  const auto p = testing::temp_dir() / "chat.gguf";
  // As GGUF files store it: Jinja text, its newlines escaped inside Jinja string literals.
  const std::string jinja =
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
      "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}";
  SmallLlama s;
  s.chat_template = GgufValue::str(jinja);
  testing::write_small_llama(p, s);
  EXPECT_EQ(Model::open(p)->chat_template(), jinja);

  // Of the wrong type: an error naming the key, not a silently missing template.
  s.chat_template = GgufValue::u32(7);
  testing::write_small_llama(p, s);
  EXPECT_THAT(open_error(p), HasSubstr("tokenizer.chat_template"));
}

TEST(GgufReader, TruncatedHeader) {
  const auto dir = testing::temp_dir();
  testing::write_small_llama(dir / "ok.gguf");
  auto bytes = testing::read_bytes(dir / "ok.gguf");
  bytes.resize(60);  // inside the first metadata key
  testing::write_bytes(dir / "cut.gguf", bytes);
  EXPECT_THAT(open_error(dir / "cut.gguf"), AllOf(HasSubstr("cut.gguf"), HasSubstr("truncated")));
  bytes.resize(2);
  testing::write_bytes(dir / "tiny.gguf", bytes);
  EXPECT_THAT(open_error(dir / "tiny.gguf"), AllOf(HasSubstr("tiny.gguf"), HasSubstr("truncated")));
}

TEST(GgufReader, BadMagic) {
  const auto dir = testing::temp_dir();
  testing::write_small_llama(dir / "ok.gguf");
  auto bytes = testing::read_bytes(dir / "ok.gguf");
  std::memcpy(bytes.data(), "GGML", 4);
  testing::write_bytes(dir / "magic.gguf", bytes);
  EXPECT_THAT(open_error(dir / "magic.gguf"), HasSubstr("magic.gguf"));
  // The reader itself (not just Model::open's sniffing) rejects it too.
  EXPECT_THAT([&] { GgufFile::open(dir / "magic.gguf"); },
              ::testing::ThrowsMessage<ModelError>(AllOf(HasSubstr("bad magic"), HasSubstr("byte 0"))));
}

TEST(GgufReader, UnsupportedVersion) {
  const auto dir = testing::temp_dir();
  testing::write_small_llama(dir / "ok.gguf");
  auto bytes = testing::read_bytes(dir / "ok.gguf");
  bytes[4] = 1;
  testing::write_bytes(dir / "v1.gguf", bytes);
  EXPECT_THAT(open_error(dir / "v1.gguf"),
              AllOf(HasSubstr("v1.gguf"), HasSubstr("unsupported GGUF version 1")));
}

TEST(GgufReader, UnknownAndUnsupportedTensorTypes) {
  const auto dir = testing::temp_dir();
  for (auto [type, expect] : {std::pair<uint32_t, const char*>{99, "unknown tensor type id 99"},
                              {11, "unsupported tensor type q3_K"}}) {
    GgufWriter w;
    w.set("general.architecture", GgufValue::str("llama"));
    w.add_tensor_raw("weird.weight", type, {256}, 110);
    const auto p = dir / ("type" + std::to_string(type) + ".gguf");
    w.write(p, [](size_t, const GgufWriter::Sink& sink) {
      const std::vector<unsigned char> z(110);
      sink(z.data(), z.size());
    });
    EXPECT_THAT(open_error(p), AllOf(HasSubstr(p.filename().string()), HasSubstr("weird.weight"),
                                     HasSubstr(expect)));
  }
}

// A metadata array's items are held many times larger than their bytes in the file: a
// small file claiming millions of items is refused before they are read.
TEST(GgufReader, HugeMetadataArrayIsRefusedBeforeReading) {
  std::vector<unsigned char> b;
  auto put = [&](auto v) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v);
    b.insert(b.end(), p, p + sizeof v);
  };
  b.insert(b.end(), {'G', 'G', 'U', 'F'});
  put(uint32_t{3});   // version
  put(uint64_t{0});   // tensors
  put(uint64_t{1});   // metadata keys
  const std::string key = "big.array";
  put(uint64_t{key.size()});
  b.insert(b.end(), key.begin(), key.end());
  put(uint32_t{9});   // array
  put(uint32_t{0});   // of u8
  const uint64_t n = uint64_t{9} << 20;
  put(n);
  b.resize(b.size() + n, 0);
  const auto p = testing::temp_dir() / "big-array.gguf";
  testing::write_bytes(p, b);
  EXPECT_THAT([&] { GgufFile::open(p); },
              ::testing::ThrowsMessage<ModelError>(AllOf(HasSubstr("big-array.gguf"),
                                                         HasSubstr("key 'big.array'"),
                                                         HasSubstr("items takes the metadata past"))));
}

TEST(GgufReader, TensorDataPastEndOfFile) {
  const auto dir = testing::temp_dir();
  testing::write_small_llama(dir / "ok.gguf");
  auto bytes = testing::read_bytes(dir / "ok.gguf");
  bytes.resize(bytes.size() - 100);  // the last tensor (output_norm) loses its end
  testing::write_bytes(dir / "short.gguf", bytes);
  EXPECT_THAT(open_error(dir / "short.gguf"),
              AllOf(HasSubstr("short.gguf"), HasSubstr("output_norm.weight"),
                    HasSubstr("past the end of the file")));
}

TEST(GgufReader, WrongShapeForConfig) {
  const auto p = testing::temp_dir() / "shape.gguf";
  SmallLlama s;
  s.reshape = "blk.1.ffn_down.weight";
  testing::write_small_llama(p, s);
  EXPECT_THAT(open_error(p), AllOf(HasSubstr("shape.gguf"), HasSubstr("blk.1.ffn_down.weight"),
                                   HasSubstr("has shape [7, 7], expected [96, 64]")));
}

TEST(GgufReader, MissingTensor) {
  const auto p = testing::temp_dir() / "missing.gguf";
  SmallLlama s;
  s.skip = "blk.0.attn_k.weight";
  testing::write_small_llama(p, s);
  EXPECT_THAT(open_error(p), AllOf(HasSubstr("missing.gguf"),
                                   HasSubstr("missing tensor 'blk.0.attn_k.weight'")));
}

TEST(GgufReader, WrongArchitectureAndMissingKey) {
  const auto dir = testing::temp_dir();
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("gpt2"));
  w.write(dir / "gpt2.gguf", {});
  EXPECT_THAT(open_error(dir / "gpt2.gguf"), HasSubstr("'general.architecture' is 'gpt2'"));
  GgufWriter w2;
  w2.set("general.architecture", GgufValue::str("llama"));
  w2.write(dir / "nokeys.gguf", {});
  EXPECT_THAT(open_error(dir / "nokeys.gguf"), HasSubstr("missing metadata key 'llama.embedding_length'"));
}

TEST(GgufReader, MissingFileAndNotAModel) {
  const auto dir = testing::temp_dir();
  EXPECT_THAT(open_error(dir / "absent.gguf"), HasSubstr("no such file"));
  testing::write_bytes(dir / "text.bin", {'h', 'e', 'l', 'l', 'o'});
  EXPECT_THAT(open_error(dir / "text.bin"), HasSubstr("not a model file"));
}

}  // namespace
}  // namespace bricks::model
