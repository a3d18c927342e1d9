// Random weight matrices for the kernel benchmarks (weights.h).
#include "weights.h"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "bricks/model/model_error.h"
#include "bricks/model/quant_blocks.h"

namespace bricks::cpu::bench {
namespace {

int64_t rotation_bytes() {
  const char* v = std::getenv("BRICKS_BENCH_WEIGHT_MIB");
  const int64_t mib = v != nullptr ? std::atoll(v) : 1024;
  return (mib > 0 ? mib : 1024) << 20;
}

std::unique_ptr<WeightSet> g_weights;

}  // namespace

std::unique_ptr<WeightArena> lanes_copy(WeightType type, const void* p, int64_t rows,
                                        int64_t cols) {
  auto packed = std::make_unique<WeightArena>(row_bytes(type, cols) * rows);
  pack_lanes(WeightView{type, rows, cols, p}, packed->data());
  return packed;
}

void random_row(WeightType type, std::span<const float> values, unsigned char* dst,
                std::mt19937& gen) {
  const size_t bytes = row_bytes(type, static_cast<int64_t>(values.size()));
  try {
    model::from_f32(type, values, std::as_writable_bytes(std::span(dst, bytes)));
    return;
  } catch (const model::ModelError&) {
  }
  for (size_t j = 0; j < bytes; ++j) dst[j] = static_cast<unsigned char>(gen());
  const model::BlockShape shape = model::dtype_block(type);
  size_t fields[2] = {0, 0};  // offsets of the block's f16 scale and min
  switch (type) {
    case WeightType::Q4_1:
    case WeightType::Q5_1:
    case WeightType::Q4_K:
    case WeightType::Q5_K:
      fields[1] = 2;
      break;
    case WeightType::Q6_K:
      fields[0] = fields[1] = offsetof(model::BlockQ6_K, d);
      break;
    default:
      break;
  }
  const uint16_t h = f32_to_f16_bits(0.01f);
  for (size_t b = 0; b < bytes / shape.bytes; ++b) {
    for (size_t f : fields) std::memcpy(dst + b * shape.bytes + f, &h, 2);
  }
}

bool lanes_run_here(benchmark::State& state, WeightType type, int64_t cols, Compute compute) {
  if (lanes_layout_fits(type, cols, compute)) return true;
  state.SkipWithError(
      "the lane layout does not run here (f32 compute; q8_0 or q4_K on AVX512_VNNI, the k-quants "
      "on AVX2 without AVX-VNNI)");
  return false;
}

WeightSet& weight_set(WeightType type, int64_t rows, int64_t cols, WeightLayout layout,
                      bool rotate) {
  if (g_weights && g_weights->type == type && g_weights->rows == rows && g_weights->cols == cols &&
      g_weights->layout == layout && (!rotate || g_weights->copies.size() > 1)) {
    return *g_weights;
  }
  g_weights.reset();
  auto set = std::make_unique<WeightSet>();
  set->type = type;
  set->rows = rows;
  set->cols = cols;
  set->layout = layout;
  const size_t bytes = row_bytes(type, cols) * rows;
  const size_t count = rotate ? std::max<size_t>(2, (rotation_bytes() + bytes - 1) / bytes) : 1;
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> val(-1, 1);
  std::vector<float> row(cols);
  for (size_t i = 0; i < count; ++i) {
    set->copies.push_back(std::make_unique<WeightArena>(bytes));
    auto* p = reinterpret_cast<unsigned char*>(set->copies.back()->data());
    if (i > 0) {
      std::memcpy(p, set->copies[0]->data(), bytes);
      continue;
    }
    for (int64_t r = 0; r < rows; ++r) {
      unsigned char* dst = p + row_bytes(type, cols) * r;
      for (float& f : row) f = val(gen);
      random_row(type, row, dst, gen);
    }
    if (layout == WeightLayout::Lanes) set->copies[0] = lanes_copy(type, p, rows, cols);
  }
  g_weights = std::move(set);
  return *g_weights;
}

}  // namespace bricks::cpu::bench
