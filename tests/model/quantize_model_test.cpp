// quantize_model: metadata carried over, every tensor in the type the rule gives it, values
// close to the source, the same bytes make-model writes for that type, and the errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "bricks/model/gguf.h"
#include "bricks/model/model.h"
#include "bricks/model/quantize_model.h"
#include "test_files.h"

namespace bricks::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::filesystem::path made(const std::filesystem::path& dir, const std::string& preset, FileType ft,
                           const std::string& name) {
  const auto p = dir / name;
  MakeModelOptions o{preset, file_type_base(ft), p, 5};
  o.file_type = ft;
  make_model(o);
  return p;
}

std::vector<float> values_of(const GgufFile& f, const GgufTensorInfo& t) {
  int64_t n = 1;
  for (int64_t d : t.ne) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  to_f32(t.dtype, f.tensor_data(t), v);
  return v;
}

std::vector<unsigned char> bytes_of(const GgufFile& f, const GgufTensorInfo& t) {
  const auto* p = static_cast<const unsigned char*>(f.tensor_data(t));
  return {p, p + t.nbytes};
}

TEST(QuantizeModel, KeepsMetadataAndFollowsTheRule) {
  const auto dir = testing::temp_dir();
  const auto src = made(dir, "micro", FileType::F16, "f16.gguf");
  const auto in = GgufFile::open(src);
  std::vector<double> fractions;
  const QuantizeReport r = quantize_model(*in, FileType::Q4_K_M, dir / "q.gguf",
                                          [&](double f) { fractions.push_back(f); });
  EXPECT_FALSE(std::filesystem::exists(dir / "q.gguf.partial"));
  ASSERT_FALSE(fractions.empty());
  EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);

  const auto out = GgufFile::open(dir / "q.gguf");
  for (const auto& [key, value] : in->metadata()) {
    if (key == "general.file_type") continue;
    const GgufValue* v = out->find(key);
    ASSERT_NE(v, nullptr) << key;
    EXPECT_TRUE(*v == value) << key;
  }
  EXPECT_EQ(out->get_int("general.file_type"), 15);
  EXPECT_EQ(out->get_int("general.quantization_version"), 2);

  // micro: 2 layers of 256, untied output. n = 2: n/8 = 0, 7n/8 = 1: layer 1 gets more bits.
  const std::map<std::string, DType> expect = {
      {"token_embd.weight", DType::Q4_K},     {"output.weight", DType::Q6_K},
      {"blk.0.attn_v.weight", DType::Q4_K},   {"blk.1.attn_v.weight", DType::Q6_K},
      {"blk.0.ffn_down.weight", DType::Q4_K}, {"blk.1.ffn_down.weight", DType::Q6_K},
      {"blk.1.attn_q.weight", DType::Q4_K},   {"blk.1.ffn_gate.weight", DType::Q4_K},
      {"blk.0.attn_norm.weight", DType::F32}, {"output_norm.weight", DType::F32}};
  for (const auto& [name, type] : expect) {
    ASSERT_NE(out->find_tensor(name), nullptr) << name;
    EXPECT_EQ(out->find_tensor(name)->dtype, type) << name;
  }
  ASSERT_EQ(out->tensors().size(), in->tensors().size());
  double worst = 0;
  for (size_t i = 0; i < in->tensors().size(); ++i) {
    const GgufTensorInfo &a = in->tensors()[i], &b = out->tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.ne, b.ne);
    if (a.dtype == DType::F32) {
      EXPECT_EQ(bytes_of(*in, a), bytes_of(*out, b)) << a.name;
    }
    const auto x = values_of(*in, a), y = values_of(*out, b);
    double se = 0, sx = 0;
    for (size_t k = 0; k < x.size(); ++k) {
      se += (double{x[k]} - y[k]) * (double{x[k]} - y[k]);
      sx += double{x[k]} * x[k];
    }
    if (sx > 0) worst = std::max(worst, std::sqrt(se / sx));
  }
  EXPECT_LT(worst, 0.09);  // q4_K of Gaussian weights: about 0.072 of their RMS
  EXPECT_EQ(r.tensors.at(DType::Q6_K), 3);
  EXPECT_EQ(r.fallbacks, 0);
  EXPECT_EQ(r.decoded, 0);
  EXPECT_LT(r.bytes_out * 3, r.bytes_in);
}

// make-model and quantize take tensor types from the same rule: quantizing make-model's f32
// model gives the bytes make-model writes for the type itself.
TEST(QuantizeModel, SameBytesAsMakeModel) {
  const auto dir = testing::temp_dir();
  const auto f32 = GgufFile::open(made(dir, "tiny", FileType::F32, "f32.gguf"));
  for (FileType ft : {FileType::Q4_K_M, FileType::Q5_1}) {
    SCOPED_TRACE(file_type_name(ft));
    const auto direct = GgufFile::open(made(dir, "tiny", ft, "direct.gguf"));
    const QuantizeReport r = quantize_model(*f32, ft, dir / "via.gguf");
    const auto via = GgufFile::open(dir / "via.gguf");
    ASSERT_EQ(via->tensors().size(), direct->tensors().size());
    for (const GgufTensorInfo& t : direct->tensors()) {
      const GgufTensorInfo* u = via->find_tensor(t.name);
      ASSERT_NE(u, nullptr) << t.name;
      EXPECT_EQ(u->dtype, t.dtype) << t.name;
      EXPECT_TRUE(bytes_of(*via, *u) == bytes_of(*direct, t)) << t.name;
    }
    EXPECT_EQ(via->get_int("general.file_type"), direct->get_int("general.file_type"));
    if (ft == FileType::Q4_K_M) {
      EXPECT_GT(r.fallbacks, 0);  // rows of 288 take q5_0
    }
  }
}

TEST(QuantizeModel, TensorsAlreadyInTheirTypeAreCopied) {
  const auto dir = testing::temp_dir();
  const auto in = GgufFile::open(made(dir, "micro", FileType::Q8_0, "q8.gguf"));
  const QuantizeReport r = quantize_model(*in, FileType::Q8_0, dir / "again.gguf");
  EXPECT_EQ(r.decoded, 0);
  const auto out = GgufFile::open(dir / "again.gguf");
  for (size_t i = 0; i < in->tensors().size(); ++i) {
    EXPECT_TRUE(bytes_of(*in, in->tensors()[i]) == bytes_of(*out, out->tensors()[i]));
  }
}

TEST(QuantizeModel, QuantizedSourcesAreDecodedFirst) {
  const auto dir = testing::temp_dir();
  const auto f32 = GgufFile::open(made(dir, "micro", FileType::F32, "f32.gguf"));
  const auto q8 = GgufFile::open(made(dir, "micro", FileType::Q8_0, "q8.gguf"));
  const QuantizeReport r = quantize_model(*q8, FileType::Q4_0, dir / "q4.gguf");
  EXPECT_EQ(r.decoded, 16);  // every matrix: 7 per layer, token_embd, output
  const auto q4 = GgufFile::open(dir / "q4.gguf");
  const GgufTensorInfo* a = f32->find_tensor("blk.1.ffn_up.weight");
  const GgufTensorInfo* b = q4->find_tensor("blk.1.ffn_up.weight");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, DType::Q4_0);
  const auto x = values_of(*f32, *a), y = values_of(*q4, *b);
  double se = 0, sx = 0;
  for (size_t k = 0; k < x.size(); ++k) {
    se += (double{x[k]} - y[k]) * (double{x[k]} - y[k]);
    sx += double{x[k]} * x[k];
  }
  EXPECT_LT(std::sqrt(se / sx), 0.1);  // q4_0's error and a little of q8_0's
}

TEST(QuantizeModel, NonFiniteWeightsAreAnError) {
  const auto dir = testing::temp_dir();
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("llama"));
  w.add_tensor("blk.0.ffn_up.weight", DType::F32, {256, 2});
  w.write(dir / "nan.gguf", [](size_t, const GgufWriter::Sink& sink) {
    std::vector<float> v(512, 0.5f);
    v[300] = std::numeric_limits<float>::quiet_NaN();
    sink(v.data(), v.size() * 4);
  });
  const auto in = GgufFile::open(dir / "nan.gguf");
  try {
    quantize_model(*in, FileType::Q4_K_M, dir / "out.gguf");
    FAIL() << "quantized a NaN";
  } catch (const ModelError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("nan.gguf"), HasSubstr("blk.0.ffn_up.weight"),
                                HasSubstr("row 1"), HasSubstr("NaN")));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "out.gguf"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out.gguf.partial"));
}

// The output is written aside and renamed, so it may replace the (mapped) input.
TEST(QuantizeModel, OutputMayReplaceTheInput) {
  const auto dir = testing::temp_dir();
  const auto p = made(dir, "micro", FileType::F16, "m.gguf");
  {
    const auto in = GgufFile::open(p);
    quantize_model(*in, FileType::Q6_K, p, {}, 3);
  }
  const auto out = GgufFile::open(p);
  EXPECT_EQ(out->find_tensor("blk.0.attn_q.weight")->dtype, DType::Q6_K);
  EXPECT_NO_THROW(Model::open(p));
}

}  // namespace
}  // namespace bricks::model
