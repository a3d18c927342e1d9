// The lane layout of q8_0, q4_K, q5_K and q6_K matrices (cpu/weight_lanes.h): pack_lanes puts
// every byte where the layout says, on any CPU; a Linear over a packed matrix matches the
// reference product where the CPU runs a lane kernel (AVX512_VNNI for q8_0 and q4_K, plain
// AVX2 for the three k-quants); what does not fit the layout is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bricks/error.hpp"
#include "cpu/convert.h"
#include "cpu/linear.h"
#include "cpu/quant_dot.h"
#include "cpu/weight_lanes.h"
#include "quant_fixtures.h"
#include "weight_fixtures.h"

namespace bricks::cpu {
namespace {

using testing::RandomWeights;

// The matrix of `w` packed into fresh bytes, and its view.
struct Packed {
  explicit Packed(const WeightView& w) : bytes(row_bytes(w.type, w.cols) * w.rows) {
    pack_lanes(w, bytes.data());
    view = w;
    view.data = bytes.data();
    view.layout = WeightLayout::Lanes;
  }
  std::vector<char> bytes;
  WeightView view;
};

bool lane_kernel_runs(WeightType t) { return lanes_layout_fits(t, 512, Compute::F32); }
bool any_lane_kernel_runs() {
  return lane_kernel_runs(WeightType::Q4_K) || lane_kernel_runs(WeightType::Q6_K);
}

// The AVX2 lane kernel takes the activations in the super-block form, AVX512_VNNI in blocks.
bool super_blocks() { return detail::quant_isa_for(active_isa()) == detail::QuantIsa::Avx2; }

const WeightType kLaneTypes[] = {WeightType::Q8_0, WeightType::Q4_K, WeightType::Q5_K,
                                 WeightType::Q6_K};

float f16_at(const char* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_bits_to_f32(h);
}

// Value k of row n of a packed q6_K matrix, read as weight_lanes.h describes the layout.
float q6_lanes_value(const Packed& p, int64_t n, int64_t k) {
  const WeightView& w = p.view;
  const int64_t groups = w.cols / 256, g = k / 256;
  const int unit = static_cast<int>(k % 256 / 16), v = static_cast<int>(k % 16);
  int slot = 0;  // 8h + lane
  while (q6_lane_unit(slot / 8, slot % 8) != unit) ++slot;
  const int h = slot / 8, lane = slot % 8;
  const auto* q = reinterpret_cast<const unsigned char*>(p.bytes.data()) +
                  (n * groups + g) * kQ6LaneWeights + 96 * h + 4 * lane;
  int value = 0;
  if (v < 12) {
    value = q[32 * (v / 4) + v % 4] & 63;
  } else {
    for (int i = 0; i < 3; ++i) value |= (q[32 * i + v % 4] >> 6) << (2 * i);
  }
  const char* s =
      p.bytes.data() + w.rows * groups * kQ6LaneWeights + (n * groups + g) * kQ6LaneScales;
  return f16_at(s + 16) * static_cast<float>(static_cast<int8_t>(s[unit])) *
         static_cast<float>(value - 32);
}

// Value k of row n of a packed matrix, read as weight_lanes.h describes the layout.
float lanes_value(const Packed& p, int64_t n, int64_t k) {
  const WeightView& w = p.view;
  if (w.type == WeightType::Q6_K) return q6_lanes_value(p, n, k);
  const int64_t groups = w.cols / kLaneGroupValues;
  const int64_t g = k / kLaneGroupValues, in_group = k % kLaneGroupValues;
  const int unit = static_cast<int>(in_group / 32), v = static_cast<int>(in_group % 32);
  int lane = 0;
  while (lane_unit(lane) != unit) ++lane;
  const int chunk = v / 4;
  const int64_t group_weights = lanes_row_weights(w.type, w.cols) / groups;
  const auto* q =
      reinterpret_cast<const unsigned char*>(p.bytes.data()) + (n * groups + g) * group_weights;
  const char* s = p.bytes.data() + w.rows * lanes_row_weights(w.type, w.cols) +
                  (n * groups + g) * kLaneGroupScales;
  auto half = [&](int64_t at) { return f16_at(s + at); };
  if (w.type == WeightType::Q8_0) {
    const int value = q[chunk * 64 + 4 * lane + v % 4] - 128;
    return half(2 * lane) * static_cast<float>(value);
  }
  const unsigned char byte = q[(chunk / 2) * 64 + 4 * lane + v % 4];
  int value = chunk % 2 == 0 ? byte & 15 : byte >> 4;
  if (w.type == WeightType::Q5_K) {
    const unsigned char plane = q[256 + 32 * (lane / 8) + 4 * (lane % 8) + v % 4];
    value |= ((plane >> chunk) & 1) << 4;
  }
  uint32_t sc_high, mn_high;
  std::memcpy(&sc_high, s + kLaneScHigh, 4);
  std::memcpy(&mn_high, s + kLaneMnHigh, 4);
  const auto low = static_cast<unsigned char>(s[lane]);
  const int sc = (low & 15) | ((sc_high >> (2 * lane)) & 3) << 4;
  const int mn = (low >> 4) | ((mn_high >> (2 * lane)) & 3) << 4;
  const int super = unit / 8;
  return half(kLaneScaleHalves + 2 * super) * static_cast<float>(sc) * static_cast<float>(value) -
         half(kLaneScaleHalves + 4 + 2 * super) * static_cast<float>(mn);
}

TEST(WeightLanes, PackingPutsEveryWeightAndScaleWhereTheLayoutSays) {
  for (WeightType type : kLaneTypes) {
    const int64_t rows = 3, cols = 1024;
    const RandomWeights w(type, rows, cols, 7);
    const Packed p(w.view);
    ASSERT_EQ(p.bytes.size(), w.bytes.size());
    std::vector<float> want(static_cast<size_t>(cols));
    for (int64_t n = 0; n < rows; ++n) {
      dequantize_row(w.view, n, want.data());
      for (int64_t k = 0; k < cols; ++k) {
        ASSERT_FLOAT_EQ(lanes_value(p, n, k), want[static_cast<size_t>(k)])
            << to_string(type) << " row " << n << " value " << k;
      }
    }
  }
  // Every lane of a group names a different unit.
  std::vector<bool> seen(16, false), q6_seen(16, false);
  for (int l = 0; l < 16; ++l) {
    seen[static_cast<size_t>(lane_unit(l))] = true;
    q6_seen[static_cast<size_t>(q6_lane_unit(l / 8, l % 8))] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 16);
  EXPECT_EQ(std::count(q6_seen.begin(), q6_seen.end(), true), 16);
}

TEST(WeightLanes, WhatTheLayoutCannotHoldIsRefused) {
  std::vector<char> out(1 << 16);
  const RandomWeights q4(WeightType::Q4_0, 2, 512, 1);
  const RandomWeights narrow(WeightType::Q8_0, 2, 96, 1);
  const RandomWeights q4k_narrow(WeightType::Q4_K, 2, 768, 1);  // q6_K's groups, not q4_K's
  EXPECT_THROW(pack_lanes(q4.view, out.data()), Error);
  EXPECT_THROW(pack_lanes(narrow.view, out.data()), Error);
  EXPECT_THROW(pack_lanes(q4k_narrow.view, out.data()), Error);
  EXPECT_FALSE(lanes_layout_fits(WeightType::Q8_0, 96, Compute::F32));
  EXPECT_FALSE(lanes_layout_fits(WeightType::Q8_0, 512, Compute::BF16));
  EXPECT_FALSE(lanes_layout_fits(WeightType::Q4_K, 768, Compute::F32));
  EXPECT_FALSE(lanes_layout_fits(WeightType::Q4_0, 512, Compute::F32));

  const RandomWeights w(WeightType::Q8_0, 4, 512, 2);
  const Packed p(w.view);
  EXPECT_THROW(pack_lanes(p.view, out.data()), Error);  // already packed
  std::vector<float> row(512);
  try {
    dequantize_row(p.view, 0, row.data());
    ADD_FAILURE() << "dequantize_row read the lane layout";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lane layout"), std::string::npos) << e.what();
  }
  // A Linear takes the layout only where its kernel runs, and says how to do without it.
  try {
    const Linear lin(p.view, Compute::BF16);
    ADD_FAILURE() << "a bf16-compute Linear took the lane layout";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("file's layout"), std::string::npos) << e.what();
  }
}

// x as the lane kernels see it after quantize_activations.
std::vector<float> quantized(const std::vector<float>& x, int64_t m, int64_t cols) {
  detail::QuantizedActivations qx;
  const bool q8k = super_blocks();
  detail::quantize_activations(
      x.data(), m, cols, qx,
      q8k ? detail::ActivationForms::SuperBlocks : detail::ActivationForms::Blocks);
  return testing::dequantized(qx, q8k);
}

TEST(WeightLanes, LinearOnPackedRowsMatchesTheReferenceForEveryRowCount) {
  if (!any_lane_kernel_runs()) {
    GTEST_SKIP() << "this CPU has neither AVX512_VNNI nor AVX2 without AVX-VNNI, which the "
                    "lane layout's kernels need";
  }
  struct Shape {
    int64_t rows, cols;
  };
  // Rows that are no multiple of the tiles' 4, the panels' 8 or 16, and q5_K's panels from 64.
  for (WeightType type : kLaneTypes) {
    if (!lane_kernel_runs(type)) {
      std::printf("[ SKIPPED  ] %s: no lane kernel on this CPU\n", to_string(type));
      continue;
    }
    std::vector<Shape> shapes = {{13, 512}, {6, 1536}, {37, 1024}};
    if (type == WeightType::Q6_K) shapes.push_back({5, 768});  // an odd number of super-blocks
    for (Shape s : shapes) {
      const RandomWeights w(type, s.rows, s.cols, 11u + static_cast<uint32_t>(s.rows));
      const Packed p(w.view);
      const Linear lin(p.view, Compute::F32);
      EXPECT_NE(lin.describe().find("repacked"), std::string::npos) << lin.describe();
      EXPECT_EQ(lin.path_for(512), Linear::Path::Gemv);
      for (int64_t m : {1, 2, 3, 4, 5, 7, 8, 16, 17, 67}) {
        const std::vector<float> x =
            testing::varied_activations(m, s.cols, 3u + static_cast<uint32_t>(m));
        const auto ref = testing::reference_product(w.view, quantized(x, m, s.cols).data(), m);
        std::vector<float> y(static_cast<size_t>(m * s.rows), -12345.0f);
        lin.forward(x.data(), m, y.data());
        int failures = 0;
        for (size_t j = 0; j < y.size() && failures < 3; ++j) {
          if (std::abs(y[j] - ref.y[j]) > 1e-5 * ref.abs[j] + 1e-30) {
            ADD_FAILURE() << to_string(type) << " " << s.rows << "x" << s.cols << " m=" << m
                          << " output " << j << ": got " << y[j] << ", want " << ref.y[j]
                          << " (scale " << ref.abs[j] << ")";
            ++failures;
          }
        }
      }
    }
  }
}

// The packed matrix ends right before a page that may not be read: a load past its last
// scale faults here in every build.
TEST(WeightLanes, TheKernelReadsNothingPastThePackedMatrix) {
  if (!any_lane_kernel_runs()) {
    GTEST_SKIP() << "this CPU has neither AVX512_VNNI nor AVX2 without AVX-VNNI, which the "
                    "lane layout's kernels need";
  }
  for (WeightType type : kLaneTypes) {
    if (!lane_kernel_runs(type)) continue;
    const RandomWeights w(type, 9, 512, 4);
    const Packed p(w.view);
    const testing::GuardedBytes at(p.bytes.data(), p.bytes.size());
    ASSERT_NE(at.data(), nullptr);
    WeightView edge = p.view;
    edge.data = at.data();
    for (int64_t m : {1, 5, 9}) {
      const std::vector<float> x = testing::varied_activations(m, 512, 8);
      std::vector<float> want(static_cast<size_t>(m * 9)), got(want.size());
      Linear(p.view, Compute::F32).forward(x.data(), m, want.data());
      Linear(edge, Compute::F32).forward(x.data(), m, got.data());
      EXPECT_EQ(got, want) << to_string(type) << " m=" << m;
    }
  }
}

}  // namespace
}  // namespace bricks::cpu
