// The lane layout of q8_0 matrices (cpu/weight_lanes.h): pack_lanes puts every byte where the
// layout says, on any CPU; a Linear over a packed matrix matches the reference product where
// the CPU runs the lane kernel (AVX512_VNNI); what does not fit the layout is refused.
#include <gtest/gtest.h>

#include <cmath>
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

bool lane_kernel_runs() { return lanes_layout_fits(WeightType::Q8_0, 512, Compute::F32); }

TEST(WeightLanes, PackingPutsEveryWeightAndScaleWhereTheLayoutSays) {
  const int64_t rows = 3, cols = 1024, groups = cols / kLaneGroupValues;
  const RandomWeights w(WeightType::Q8_0, rows, cols, 7);
  const Packed p(w.view);
  ASSERT_EQ(p.bytes.size(), w.bytes.size());
  const char* scales = p.bytes.data() + rows * cols;
  for (int64_t n = 0; n < rows; ++n) {
    for (int64_t g = 0; g < groups; ++g) {
      for (int l = 0; l < 16; ++l) {
        const int64_t block = g * 16 + lane_block(l);
        const unsigned char* file =
            w.bytes.data() + n * row_bytes(WeightType::Q8_0, cols) + block * kQ8BlockBytes;
        ASSERT_EQ(std::memcmp(scales + (n * groups + g) * 32 + 2 * l, file, 2), 0)
            << "row " << n << " block " << block;
        for (int v = 0; v < 32; ++v) {
          const auto got = static_cast<unsigned char>(
              p.bytes[static_cast<size_t>((n * groups + g) * 512 + (v / 4) * 64 + 4 * l + v % 4)]);
          ASSERT_EQ(got, static_cast<unsigned char>(file[2 + v] ^ 0x80u))
              << "row " << n << " block " << block << " value " << v;
        }
      }
    }
  }
  // Every lane of a group names a different block.
  std::vector<bool> seen(16, false);
  for (int l = 0; l < 16; ++l) seen[static_cast<size_t>(lane_block(l))] = true;
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 16);
}

TEST(WeightLanes, WhatTheLayoutCannotHoldIsRefused) {
  std::vector<char> out(1 << 16);
  const RandomWeights q4(WeightType::Q4_0, 2, 512, 1);
  const RandomWeights narrow(WeightType::Q8_0, 2, 96, 1);
  EXPECT_THROW(pack_lanes(q4.view, out.data()), Error);
  EXPECT_THROW(pack_lanes(narrow.view, out.data()), Error);
  EXPECT_FALSE(lanes_layout_fits(WeightType::Q8_0, 96, Compute::F32));
  EXPECT_FALSE(lanes_layout_fits(WeightType::Q8_0, 512, Compute::BF16));
  EXPECT_FALSE(lanes_layout_fits(WeightType::Q4_K, 512, Compute::F32));

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

// x as the kernels see it after quantize_activations.
std::vector<float> quantized(const std::vector<float>& x, int64_t m, int64_t cols) {
  detail::QuantizedActivations qx;
  detail::quantize_activations(x.data(), m, cols, qx);
  return testing::dequantized(qx);
}

TEST(WeightLanes, LinearOnPackedRowsMatchesTheReferenceForEveryRowCount) {
  if (!lane_kernel_runs()) {
    GTEST_SKIP() << "this CPU lacks AVX512_VNNI, which the lane layout's kernel needs";
  }
  struct Shape {
    int64_t rows, cols;
  };
  // Rows that are no multiple of the tiles' 4 or the panels' 16.
  for (Shape s : {Shape{13, 512}, Shape{6, 1536}, Shape{37, 1024}}) {
    const RandomWeights w(WeightType::Q8_0, s.rows, s.cols, 11u + static_cast<uint32_t>(s.rows));
    const Packed p(w.view);
    const Linear lin(p.view, Compute::F32);
    EXPECT_NE(lin.describe().find("repacked"), std::string::npos) << lin.describe();
    EXPECT_EQ(lin.path_for(512), Linear::Path::Gemv);
    for (int64_t m : {1, 2, 3, 4, 5, 8, 16, 17}) {
      const std::vector<float> x =
          testing::varied_activations(m, s.cols, 3u + static_cast<uint32_t>(m));
      const auto ref = testing::reference_product(w.view, quantized(x, m, s.cols).data(), m);
      std::vector<float> y(static_cast<size_t>(m * s.rows), -12345.0f);
      lin.forward(x.data(), m, y.data());
      int failures = 0;
      for (size_t j = 0; j < y.size() && failures < 3; ++j) {
        if (std::abs(y[j] - ref.y[j]) > 1e-5 * ref.abs[j] + 1e-30) {
          ADD_FAILURE() << s.rows << "x" << s.cols << " m=" << m << " output " << j << ": got "
                        << y[j] << ", want " << ref.y[j] << " (scale " << ref.abs[j] << ")";
          ++failures;
        }
      }
    }
  }
}

// The packed matrix ends right before a page that may not be read: a load past its last
// scale faults here in every build.
TEST(WeightLanes, TheKernelReadsNothingPastThePackedMatrix) {
  if (!lane_kernel_runs()) {
    GTEST_SKIP() << "this CPU lacks AVX512_VNNI, which the lane layout's kernel needs";
  }
  const RandomWeights w(WeightType::Q8_0, 9, 512, 4);
  const Packed p(w.view);
  const testing::GuardedBytes at(p.bytes.data(), p.bytes.size());
  ASSERT_NE(at.data(), nullptr);
  WeightView edge = p.view;
  edge.data = at.data();
  for (int64_t m : {1, 5}) {
    const std::vector<float> x = testing::varied_activations(m, 512, 8);
    std::vector<float> want(static_cast<size_t>(m * 9)), got(want.size());
    Linear(p.view, Compute::F32).forward(x.data(), m, want.data());
    Linear(edge, Compute::F32).forward(x.data(), m, got.data());
    EXPECT_EQ(got, want) << "m=" << m;
  }
}

}  // namespace
}  // namespace bricks::cpu
