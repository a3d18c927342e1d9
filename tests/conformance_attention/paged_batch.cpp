#include "paged_batch.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace bricks::testing {

std::vector<SeqShape> mixed_sequences(int32_t page_size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](int32_t lo, int32_t hi) {
    return std::uniform_int_distribution<int32_t>(lo, hi)(rng);
  };
  const int32_t prompt = uniform(20, 70);
  const int32_t chunked_kv = uniform(40, 120);
  return {
      {1, 1},
      {prompt, prompt},
      {uniform(1, 150), 1},
      {chunked_kv, uniform(5, 30)},
      {page_size * uniform(1, std::max(1, 96 / page_size)), 1},
  };
}

PagedBatch::PagedBatch(const BatchShape& shape, const std::vector<SeqShape>& seqs, uint64_t seed)
    : f16_(shape.f16), with_scores_(shape.with_scores) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  const int32_t num_qo_heads = shape.num_kv_heads * shape.group;

  qo_indptr_.push_back(0);
  indptr_.push_back(0);
  for (const SeqShape& s : seqs) {
    const int32_t pages = (s.kv_len + shape.page_size - 1) / shape.page_size;
    qo_indptr_.push_back(qo_indptr_.back() + s.qo_len);
    indptr_.push_back(indptr_.back() + pages);
    last_page_len_.push_back(s.kv_len - (pages - 1) * shape.page_size);
    total_kv_ += s.kv_len;
  }
  // Physical blocks: a random permutation of a pool with spare blocks, so pages are neither
  // contiguous nor in order, and unused blocks hold values no sequence may read.
  const int32_t num_blocks = indptr_.back() + 7;
  std::vector<int32_t> blocks(static_cast<size_t>(num_blocks));
  std::iota(blocks.begin(), blocks.end(), 0);
  std::shuffle(blocks.begin(), blocks.end(), rng);
  indices_.assign(blocks.begin(), blocks.begin() + indptr_.back());

  const size_t pool_size =
      static_cast<size_t>(num_blocks) * shape.page_size * shape.num_kv_heads * shape.head_dim;
  if (shape.f16) {
    // Random halves in +-[2^-4, 2): sign, exponent 11..15, random mantissa.
    auto half = [&]() {
      const uint16_t sign = static_cast<uint16_t>((rng() & 1u) << 15);
      const uint16_t exponent = static_cast<uint16_t>(11 + rng() % 5);
      return static_cast<uint16_t>(sign | (exponent << 10) | (rng() & 0x3ffu));
    };
    k_f16_.resize(pool_size);
    v_f16_.resize(pool_size);
    for (auto& x : k_f16_) x = half();
    for (auto& x : v_f16_) x = half();
  } else {
    k_f32_.resize(pool_size);
    v_f32_.resize(pool_size);
    for (auto& x : k_f32_) x = value(rng);
    for (auto& x : v_f32_) x = value(rng);
  }
  // Queries scaled up so some softmaxes are peaked, not all near uniform.
  q_.resize(static_cast<size_t>(qo_indptr_.back()) * num_qo_heads * shape.head_dim);
  for (auto& x : q_) x = 3.0f * value(rng);
  score_rows_.resize(static_cast<size_t>(qo_indptr_.back()));
  for (auto& f : score_rows_) f = static_cast<uint8_t>(rng() % 2);

  batch_.struct_size = sizeof(bricks_attention_batch);
  batch_.qo_indptr = qo_indptr_.data();
  batch_.kv = bricks_page_table{indptr_.data(), indices_.data(), last_page_len_.data(),
                                static_cast<int32_t>(seqs.size()), shape.page_size};
  batch_.num_qo_heads = num_qo_heads;
  batch_.num_kv_heads = shape.num_kv_heads;
  batch_.head_dim = shape.head_dim;
  batch_.kv_dtype = shape.f16 ? BRICKS_DTYPE_F16 : BRICKS_DTYPE_F32;
  batch_.sm_scale = 1.0f / std::sqrt(static_cast<float>(shape.head_dim));
  batch_.causal = shape.causal ? 1 : 0;
}

bricks_attention_io PagedBatch::io(std::vector<float>& out, std::vector<float>& scores) const {
  bricks_attention_io io{};
  io.struct_size = sizeof(bricks_attention_io);
  io.q = q_.data();
  io.k_pool = f16_ ? static_cast<const void*>(k_f16_.data()) : k_f32_.data();
  io.v_pool = f16_ ? static_cast<const void*>(v_f16_.data()) : v_f32_.data();
  io.out = out.data();
  if (with_scores_) {
    io.score_rows = score_rows_.data();
    io.scores = scores.data();
  }
  return io;
}

}  // namespace bricks::testing
