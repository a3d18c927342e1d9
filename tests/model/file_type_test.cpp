// The per-tensor type rule of llama.cpp's file types (file_type.h), checked against the rule
// as llama.cpp documents and applies it: its layers worked out by hand for a few depths.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "bricks/model/file_type.h"

namespace bricks::model {
namespace {

TensorSlot slot(const std::string& name, int n_layers, int64_t row = 4096, int n_experts = 0,
                bool has_output = true) {
  TensorSlot s;
  s.name = name;
  s.row = row;
  s.layer = tensor_layer(s.name);
  s.n_layers = n_layers;
  s.n_experts = n_experts;
  s.has_output = has_output;
  return s;
}

// The layers whose attn_v and ffn_down a _M mix stores in q6_K.
std::set<int> q6k_layers(FileType ft, const char* tensor, int n_layers) {
  std::set<int> layers;
  for (int i = 0; i < n_layers; ++i) {
    const std::string name = "blk." + std::to_string(i) + "." + tensor;
    const DType t = tensor_type(ft, slot(name, n_layers));
    if (t == DType::Q6_K) {
      layers.insert(i);
    } else {
      EXPECT_EQ(t, file_type_base(ft)) << name;
    }
  }
  return layers;
}

TEST(QuantMixRule, NamesAndLlamaNumbers) {
  for (FileType ft : kAllFileTypes) {
    EXPECT_EQ(file_type_from_name(file_type_name(ft)), ft) << file_type_name(ft);
  }
  EXPECT_EQ(file_type_from_name("Q4_K_M"), FileType::Q4_K_M);
  EXPECT_EQ(file_type_from_name("q4_k"), FileType::Q4_K_S);
  EXPECT_EQ(file_type_from_name("q3_k"), std::nullopt);
  EXPECT_EQ(file_type_from_name(""), std::nullopt);
  // LLAMA_FTYPE_MOSTLY_*, as general.file_type stores them.
  EXPECT_EQ(static_cast<uint32_t>(FileType::Q4_0), 2u);
  EXPECT_EQ(static_cast<uint32_t>(FileType::Q8_0), 7u);
  EXPECT_EQ(static_cast<uint32_t>(FileType::Q5_1), 9u);
  EXPECT_EQ(static_cast<uint32_t>(FileType::Q4_K_M), 15u);
  EXPECT_EQ(static_cast<uint32_t>(FileType::Q5_K_M), 17u);
  EXPECT_EQ(static_cast<uint32_t>(FileType::Q6_K), 18u);
  EXPECT_EQ(static_cast<uint32_t>(FileType::BF16), 32u);
  for (DType t : kAllDTypes) EXPECT_EQ(file_type_base(file_type_of(t)), t) << dtype_name(t);
  EXPECT_EQ(file_type_base(FileType::Q5_K_M), DType::Q5_K);
}

// use_more_bits(i, n): i < n/8, i >= 7n/8, or (i - n/8) % 3 == 2.
TEST(QuantMixRule, MediumMixesGiveMoreBitsLayersQ6K) {
  // n = 6: n/8 = 0, 7n/8 = 5: layers 2 and 5.
  EXPECT_EQ(q6k_layers(FileType::Q4_K_M, "attn_v.weight", 6), (std::set<int>{2, 5}));
  // n = 12: n/8 = 1, 7n/8 = 10: 0, then 3, 6, 9, then 10, 11.
  EXPECT_EQ(q6k_layers(FileType::Q4_K_M, "ffn_down.weight", 12),
            (std::set<int>{0, 3, 6, 9, 10, 11}));
  // n = 32: n/8 = 4, 7n/8 = 28: 0-3, 6, 9, ..., 27, 28-31.
  const std::set<int> l32{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
  EXPECT_EQ(q6k_layers(FileType::Q4_K_M, "attn_v.weight", 32), l32);
  EXPECT_EQ(q6k_layers(FileType::Q5_K_M, "ffn_down.weight", 32), l32);
  EXPECT_EQ(q6k_layers(FileType::Q5_K_M, "ffn_down_exps.weight", 32), l32);
  // The other matrices keep the base type on every layer.
  EXPECT_EQ(q6k_layers(FileType::Q4_K_M, "attn_q.weight", 32), std::set<int>{});
  EXPECT_EQ(q6k_layers(FileType::Q4_K_M, "ffn_up.weight", 32), std::set<int>{});
}

TEST(QuantMixRule, SmallMixesBumpOnlyTheFirstLayers) {
  // q4_k (Q4_K_S): attn_v of layers 0..3 and ffn_down of layers below n/8 in q5_K.
  for (int i = 0; i < 32; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    EXPECT_EQ(tensor_type(FileType::Q4_K_S, slot(b + "attn_v.weight", 32)),
              i < 4 ? DType::Q5_K : DType::Q4_K)
        << i;
    EXPECT_EQ(tensor_type(FileType::Q4_K_S, slot(b + "ffn_down.weight", 32)),
              i < 4 ? DType::Q5_K : DType::Q4_K)
        << i;
    EXPECT_EQ(tensor_type(FileType::Q5_K_S, slot(b + "attn_v.weight", 32)), DType::Q5_K) << i;
    EXPECT_EQ(tensor_type(FileType::Q4_0, slot(b + "ffn_down.weight", 32)), DType::Q4_0) << i;
  }
}

TEST(QuantMixRule, OutputMatrixGetsQ6K) {
  for (FileType ft : {FileType::Q4_0, FileType::Q4_1, FileType::Q5_0, FileType::Q5_1,
                      FileType::Q4_K_S, FileType::Q4_K_M, FileType::Q5_K_M, FileType::Q6_K}) {
    EXPECT_EQ(tensor_type(ft, slot("output.weight", 22)), DType::Q6_K) << file_type_name(ft);
    // Untied: token_embd keeps the base type; tied, it is the output and gets q6_K.
    EXPECT_EQ(tensor_type(ft, slot("token_embd.weight", 22)), file_type_base(ft));
    EXPECT_EQ(tensor_type(ft, slot("token_embd.weight", 22, 4096, 0, false)), DType::Q6_K);
  }
  EXPECT_EQ(tensor_type(FileType::Q8_0, slot("output.weight", 22)), DType::Q8_0);
  // Rows that are not whole base blocks: q8_0 straight away; rows that fit the base but not
  // q6_K's 256: q6_K falls back to q8_0.
  EXPECT_EQ(preferred_tensor_type(FileType::Q4_K_M, slot("output.weight", 6, 288)), DType::Q8_0);
  EXPECT_EQ(preferred_tensor_type(FileType::Q4_0, slot("output.weight", 6, 288)), DType::Q6_K);
  EXPECT_EQ(tensor_type(FileType::Q4_0, slot("output.weight", 6, 288)), DType::Q8_0);
}

TEST(QuantMixRule, RowsThatAreNotWholeSuperBlocksFallBack) {
  EXPECT_EQ(fit_row(DType::Q4_K, 288), DType::Q5_0);
  EXPECT_EQ(fit_row(DType::Q5_K, 288), DType::Q5_1);
  EXPECT_EQ(fit_row(DType::Q6_K, 288), DType::Q8_0);
  EXPECT_EQ(fit_row(DType::Q4_K, 768), DType::Q4_K);
  EXPECT_EQ(fit_row(DType::Q4_K, 80), DType::F16);  // not even 32-value blocks
  EXPECT_EQ(fit_row(DType::Q4_0, 48), DType::F16);
  EXPECT_EQ(fit_row(DType::F32, 7), DType::F32);
  EXPECT_EQ(tensor_type(FileType::Q4_K_M, slot("blk.0.attn_q.weight", 6, 288)), DType::Q5_0);
  EXPECT_EQ(tensor_type(FileType::Q4_K_M, slot("blk.2.attn_v.weight", 6, 288)), DType::Q8_0);
}

// llama.cpp gives models of exactly 8 experts (Mixtral) more bits in attention.
TEST(QuantMixRule, EightExpertModels) {
  EXPECT_EQ(tensor_type(FileType::Q4_K_M, slot("blk.9.attn_v.weight", 32, 4096, 8)), DType::Q8_0);
  EXPECT_EQ(tensor_type(FileType::Q4_K_M, slot("blk.9.attn_k.weight", 32, 4096, 8)), DType::Q8_0);
  EXPECT_EQ(tensor_type(FileType::Q4_K_M, slot("blk.9.attn_output.weight", 32, 4096, 8)),
            DType::Q5_K);
  EXPECT_EQ(tensor_type(FileType::Q5_K_M, slot("blk.9.attn_output.weight", 32, 4096, 8)),
            DType::Q5_K);
  EXPECT_EQ(tensor_type(FileType::Q4_K_M, slot("blk.9.attn_k.weight", 32, 4096, 4)), DType::Q4_K);
}

TEST(QuantMixRule, UnquantizedFileTypesUseTheirType) {
  EXPECT_EQ(tensor_type(FileType::F16, slot("output.weight", 6, 288)), DType::F16);
  EXPECT_EQ(tensor_type(FileType::BF16, slot("blk.2.attn_v.weight", 6)), DType::BF16);
  EXPECT_EQ(tensor_type(FileType::F32, slot("blk.0.ffn_down.weight", 6)), DType::F32);
}

TEST(QuantMixRule, WhatGetsQuantized) {
  EXPECT_TRUE(is_quantizable("blk.0.attn_q.weight", 2));
  EXPECT_TRUE(is_quantizable("blk.0.ffn_up_exps.weight", 3));
  EXPECT_TRUE(is_quantizable("token_embd.weight", 2));
  EXPECT_FALSE(is_quantizable("blk.0.attn_norm.weight", 1));
  EXPECT_FALSE(is_quantizable("output_norm.weight", 2));  // by name, whatever the shape
  EXPECT_FALSE(is_quantizable("blk.0.ffn_gate_inp.weight", 2));
  EXPECT_FALSE(is_quantizable("rope_freqs.weight", 1));
}

TEST(QuantMixRule, LayerOfAName) {
  EXPECT_EQ(tensor_layer("blk.12.attn_v.weight"), 12);
  EXPECT_EQ(tensor_layer("blk.0.ffn_down_exps.weight"), 0);
  EXPECT_EQ(tensor_layer("output.weight"), -1);
  EXPECT_EQ(tensor_layer("blk.x.attn_v.weight"), -1);
  EXPECT_EQ(tensor_layer("blk.3"), -1);
  EXPECT_EQ(tensor_layer("blk..attn_v.weight"), -1);
}

}  // namespace
}  // namespace bricks::model
