// Linear against a double-precision loop on the dequantised weights, for every weight
// type, dispatch level, compute mode and path (GEMV kernels, oneDNN matmul).
//
// Tolerances, per output, scaled by S = sum_k |x_k * w_k| (the bound for any summation
// order): Compute::F32 |y - ref| <= 1e-5 * S; Compute::BF16 (activations, and on the
// bf16 matmul also weights, rounded to 8 significant bits) |y - ref| <= 1e-2 * S. The GEMV
// path of the block types quantizes the activations to 8 bits (integer dot products), which
// adds the activation rounding bound of weight_fixtures.h in either compute mode.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bricks/error.hpp"
#include "cpu/cpu_features.h"
#include "cpu/linear.h"
#include "cpu/quant_dot.h"
#include "cpu/threads.h"
#include "weight_fixtures.h"

namespace bricks::cpu {
namespace {

using testing::RandomWeights;

struct Shape {
  int64_t rows, cols;
};

// cols 96 = 3 q8_0 blocks with 77 (odd) rows; 40, 200 and 1100 leave SIMD column tails;
// 1100 and 1088 (34 q8_0 blocks) span several column passes of the batched kernels. 40 x 520
// gives the register tiles whole panels of 16 rows that add up over three column panels.
const Shape kShapes[] = {{77, 96},   {64, 256},  {33, 40}, {9, 200},
                         {13, 1100}, {12, 1088}, {40, 520}};
// 6 and 8 take the bf16 dot products' 3 x 8 tiles, partly and wholly filled; 17 and 64 their
// 6 x 4 tiles, 17 with a last tile of one activation row. On AVX2, 17, 20, 22 and 28 take the
// broadcast kernel's group of 16 rows (f16: 28 only), then one of 2, 4, 8 and 16 padded rows
// (4, 2 and 1 columns a vector; 28 with 4 rows of zeros). The register tiles take 38 and 43
// as tiles of 6 rows and a last 8 or 7 as 4 and 4 or 4 and 3.
const int64_t kMs[] = {1, 3, 6, 8, 17, 20, 22, 28, 38, 43, 64};
const WeightType kTypes[] = {WeightType::F32,  WeightType::F16,  WeightType::BF16, WeightType::Q8_0,
                             WeightType::Q4_0, WeightType::Q4_1, WeightType::Q5_0, WeightType::Q5_1,
                             WeightType::Q4_K, WeightType::Q5_K, WeightType::Q6_K};

bool fits(WeightType type, Shape s) { return s.cols % model::dtype_block(type).values == 0; }

using testing::supported_isas;

// Restores the dispatch limit when a test ends.
struct IsaGuard {
  explicit IsaGuard(Isa isa) { set_isa_limit(isa); }
  ~IsaGuard() { set_isa_limit(Isa::Avx512); }
};

void check_linear(WeightType type, Shape s, Compute compute, const LinearOptions& opt,
                  const std::string& label) {
  const RandomWeights w(type, s.rows, s.cols, 7u + static_cast<uint32_t>(s.rows));
  const Linear lin(w.view, compute, opt);
  const double tol = compute == Compute::F32 ? 1e-5 : 1e-2;
  for (int64_t m : kMs) {
    const std::vector<float> x = testing::random_floats(m * s.cols, 11u + static_cast<uint32_t>(m));
    const auto ref = testing::reference_product(w.view, x.data(), m);
    std::vector<double> bound(static_cast<size_t>(m * s.rows), 0.0);
    if (model::dtype_is_quantized(type) && lin.path_for(m) == Linear::Path::Gemv) {
      bound = testing::activation_rounding_bound(w.view, x.data(), m);
    }
    std::vector<float> y(static_cast<size_t>(m * s.rows), -12345.0f);
    lin.forward(x.data(), m, y.data());
    int failures = 0;
    for (size_t j = 0; j < y.size() && failures < 3; ++j) {
      const double err = std::abs(y[j] - ref.y[j]);
      if (!(err <= tol * ref.abs[j] + bound[j] + 1e-30)) {
        ADD_FAILURE() << label << " " << to_string(type) << " " << s.rows << "x" << s.cols
                      << " m=" << m << " path=" << to_string(lin.path_for(m)) << " index " << j
                      << ": got " << y[j] << ", want " << ref.y[j] << " (scale " << ref.abs[j]
                      << ")\n  " << lin.describe();
        ++failures;
      }
    }
  }
}

TEST(CpuLinear, EveryTypeShapeAndIsaMatchesReferenceOnGemvPath) {
  for (Isa isa : supported_isas()) {
    IsaGuard guard(isa);
    for (WeightType type : kTypes) {
      for (Shape s : kShapes) {
        if (!fits(type, s)) continue;
        for (Compute c : {Compute::F32, Compute::BF16}) {
          check_linear(type, s, c, LinearOptions{-1},
                       std::string("gemv ") + to_string(isa) + " compute " + to_string(c));
        }
      }
    }
  }
}

TEST(CpuLinear, DefaultPathsMatchReference) {
  for (WeightType type : kTypes) {
    for (Shape s : kShapes) {
      if (!fits(type, s)) continue;
      for (Compute c : {Compute::F32, Compute::BF16}) {
        check_linear(type, s, c, LinearOptions{}, std::string("default compute ") + to_string(c));
        check_linear(type, s, c, LinearOptions{1}, std::string("gemm compute ") + to_string(c));
      }
    }
  }
}

TEST(CpuLinear, GemvIsPickedForSmallMAndDescribed) {
  const RandomWeights w(WeightType::F16, 64, 256, 3);
  const Linear lin(w.view, Compute::F32);
  EXPECT_EQ(lin.path_for(1), Linear::Path::Gemv);
  EXPECT_EQ(lin.isa(), active_isa());
  EXPECT_EQ(lin.rows(), 64);
  EXPECT_EQ(lin.cols(), 256);
  EXPECT_EQ(lin.weight_bytes(), 64u * 256u * 2u);
  EXPECT_NE(lin.describe().find("gemv"), std::string::npos) << lin.describe();
  const Linear no_gemm(w.view, Compute::F32, LinearOptions{-1});
  EXPECT_EQ(no_gemm.path_for(1 << 20), Linear::Path::Gemv);
}

// f16 and bf16 weights in f32 compute take the register-tiled kernel from 32 rows (its results
// are checked against the reference above at m = 38, 43 and 64): on AVX-512 at every m, on AVX2
// through 512 rows (f16) or 511 (bf16), where oneDNN takes over if the build has it.
TEST(CpuLinear, HalfWeightsInF32ComputeRunRegisterTiles) {
  if (active_isa() == Isa::Scalar) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512";
  for (Isa isa : supported_isas()) {
    if (isa == Isa::Scalar) continue;
    const IsaGuard guard(isa);
    for (WeightType type : {WeightType::F16, WeightType::BF16}) {
      const RandomWeights w(type, 64, 256, 3);
      const Linear lin(w.view, Compute::F32);
      EXPECT_NE(lin.describe().find("register tiles from m = 32"), std::string::npos)
          << lin.describe();
      if (isa == Isa::Avx512) {
        EXPECT_EQ(lin.path_for(4096), Linear::Path::Gemv) << lin.describe();
      } else {
        const int64_t last = type == WeightType::F16 ? 512 : 511;
        EXPECT_EQ(lin.path_for(last), Linear::Path::Gemv) << lin.describe();
        const bool onednn =
            Linear(w.view, Compute::F32, LinearOptions{1}).path_for(1) != Linear::Path::Gemv;
        EXPECT_EQ(lin.path_for(last + 1), onednn ? Linear::Path::GemmF32 : Linear::Path::Gemv)
            << lin.describe();
      }
    }
  }
}

// Without register tiles (the portable floor) f16 weights in f32 compute go to oneDNN from 256
// rows, as before the tiles took them further on AVX2.
TEST(CpuLinear, WithoutTilesHalfWeightsTakeOneDnnFrom256) {
  const IsaGuard guard(Isa::Scalar);
  const RandomWeights f16(WeightType::F16, 64, 256, 3);
  const Linear lin(f16.view, Compute::F32);
  if (Linear(f16.view, Compute::F32, LinearOptions{1}).path_for(1) == Linear::Path::Gemv) {
    GTEST_SKIP() << "built without oneDNN";
  }
  EXPECT_EQ(lin.path_for(255), Linear::Path::Gemv) << lin.describe();
  EXPECT_EQ(lin.path_for(256), Linear::Path::GemmF32) << lin.describe();
}

// On AVX2, f32 and bf16 weights take the broadcast kernel from 16 rows up to the tiles, f16
// from 24 (its results are checked against the reference above at m = 17, 20, 22 and 28);
// quantized weights and AVX-512 do not.
TEST(CpuLinear, AvxTwoBroadcastsWeightsBelowTheTiles) {
  if (!cpu_features().avx2) GTEST_SKIP() << "this CPU has no AVX2";
  const std::string bcast = "weights broadcast against transposed activations from m = ";
  const RandomWeights f16(WeightType::F16, 64, 256, 3);
  if (active_isa() == Isa::Avx512) {
    EXPECT_EQ(Linear(f16.view, Compute::F32).describe().find(bcast), std::string::npos);
  }
  const IsaGuard guard(Isa::Avx2);
  for (WeightType type : {WeightType::F32, WeightType::F16, WeightType::BF16}) {
    const RandomWeights w(type, 64, 256, 3);
    const std::string from = bcast + (type == WeightType::F16 ? "24" : "16");
    for (Compute c : {Compute::F32, Compute::BF16}) {
      const std::string d = Linear(w.view, c).describe();
      EXPECT_NE(d.find(from), std::string::npos) << d;
    }
  }
  const RandomWeights q8(WeightType::Q8_0, 64, 256, 3);
  EXPECT_EQ(Linear(q8.view, Compute::F32).describe().find(bcast), std::string::npos);
}

// In bf16 compute oneDNN takes bf16 weights from 16 rows and f16 weights, whose panels it
// converts on every call, from 32: below, the GEMV on rounded activations is faster. Where the
// CPU has AVX512_BF16 dot products, which serve the rows below, it takes them from 64 and 128.
TEST(CpuLinear, Bf16ComputeTakesOneDnnLaterOnConvertedF16Panels) {
  const RandomWeights f16(WeightType::F16, 64, 256, 3);
  const RandomWeights bf16(WeightType::BF16, 64, 256, 3);
  const Linear on_f16(f16.view, Compute::BF16);
  const Linear on_bf16(bf16.view, Compute::BF16);
  if (on_bf16.path_for(1 << 20) == Linear::Path::Gemv) GTEST_SKIP() << "built without oneDNN";
  if (on_bf16.path_for(1 << 20) != Linear::Path::GemmBF16) {
    // oneDNN's bf16 matmul needs AVX-512; below it bf16 compute takes the f32 matmul.
    EXPECT_EQ(on_bf16.path_for(1 << 20), Linear::Path::GemmF32) << on_bf16.describe();
    GTEST_SKIP() << "oneDNN has no bf16 matmul on this CPU: " << on_bf16.describe();
  }
  const bool dp = active_isa() == Isa::Avx512 && cpu_features().avx512bf16;
  const int64_t bf16_from = dp ? 64 : 16;
  const int64_t f16_from = dp ? 128 : 32;
  EXPECT_EQ(on_bf16.path_for(bf16_from - 1), Linear::Path::Gemv) << on_bf16.describe();
  EXPECT_EQ(on_bf16.path_for(bf16_from), Linear::Path::GemmBF16) << on_bf16.describe();
  EXPECT_EQ(on_f16.path_for(f16_from - 1), Linear::Path::Gemv) << on_f16.describe();
  EXPECT_EQ(on_f16.path_for(f16_from), Linear::Path::GemmBF16) << on_f16.describe();
}

// bf16 and f16 weights in bf16 compute run vdpbf16ps from two rows where the CPU has
// AVX512_BF16, and only there: f32 weights, f32 compute and a lowered dispatch level keep the
// f32 kernels. f16 weights say that they are rounded to bf16 on the way.
// (The dot products' values are checked against the reference above at m = 3, 8, 17 and 64.)
TEST(CpuLinear, HalfWeightsInBf16ComputeRunDotProductsOnAvx512Bf16) {
  if (active_isa() != Isa::Avx512 || !cpu_features().avx512bf16) {
    GTEST_SKIP() << "this CPU has no AVX512_BF16";
  }
  const RandomWeights bf16(WeightType::BF16, 64, 256, 3);
  const RandomWeights f16(WeightType::F16, 64, 256, 3);
  const RandomWeights f32(WeightType::F32, 64, 256, 3);
  const std::string dp = "bf16 dot products (vdpbf16ps";
  const std::string rounded = "bf16 dot products (vdpbf16ps, weights rounded to bf16) from m = 2";
  const std::string on_bf16 = Linear(bf16.view, Compute::BF16).describe();
  const std::string on_f16 = Linear(f16.view, Compute::BF16).describe();
  EXPECT_NE(on_bf16.find("bf16 dot products (vdpbf16ps) from m = 2"), std::string::npos) << on_bf16;
  EXPECT_NE(on_f16.find(rounded), std::string::npos) << on_f16;
  EXPECT_EQ(Linear(bf16.view, Compute::F32).describe().find(dp), std::string::npos);
  EXPECT_EQ(Linear(f16.view, Compute::F32).describe().find(dp), std::string::npos);
  EXPECT_EQ(Linear(f32.view, Compute::BF16).describe().find(dp), std::string::npos);
  const IsaGuard guard(Isa::Avx2);
  EXPECT_EQ(Linear(bf16.view, Compute::BF16).describe().find(dp), std::string::npos);
  EXPECT_EQ(Linear(f16.view, Compute::BF16).describe().find(dp), std::string::npos);
}

// In f32 compute the int8 many-row kernels of AVX512_VNNI, and the plain AVX2 family's
// k-quant kernels on super-block activations and q8_0 panels, serve every m of their types;
// other types and families, and bf16 compute, keep their oneDNN crossover.
TEST(CpuLinear, Int8ManyRowTypesStayOffOneDnnInF32Compute) {
  const RandomWeights q51(WeightType::Q5_1, 64, 256, 3);
  if (Linear(q51.view, Compute::F32, LinearOptions{512}).path_for(512) == Linear::Path::Gemv) {
    GTEST_SKIP() << "built without oneDNN";
  }
  // Whether the family the CPU runs at `isa` keeps `type` on its own kernels.
  auto own = [](Isa isa, WeightType type) {
    const detail::QuantIsa family = detail::quant_isa_for(isa);
    return family == detail::QuantIsa::Avx512Vnni || detail::quant_uses_q8k(family, type) ||
           (family == detail::QuantIsa::Avx2 && type == WeightType::Q8_0);
  };
  for (WeightType type :
       {WeightType::Q8_0, WeightType::Q4_0, WeightType::Q4_K, WeightType::Q5_K, WeightType::Q6_K}) {
    const RandomWeights w(type, 64, 256, 3);
    const Linear lin(w.view, Compute::F32);
    EXPECT_EQ(lin.path_for(4096),
              own(active_isa(), type) ? Linear::Path::Gemv : Linear::Path::GemmF32)
        << to_string(type) << ": " << lin.describe();
    const Linear forced(w.view, Compute::F32, LinearOptions{512});
    EXPECT_EQ(forced.path_for(511), Linear::Path::Gemv);
    EXPECT_EQ(forced.path_for(512), Linear::Path::GemmF32);
    EXPECT_NE(Linear(w.view, Compute::BF16).path_for(4096), Linear::Path::Gemv);
    if (active_isa() == Isa::Avx512) {
      IsaGuard avx2(Isa::Avx2);  // AVX-VNNI where the CPU has it, else the plain AVX2 family
      const Linear narrow(w.view, Compute::F32);
      EXPECT_EQ(narrow.path_for(4096),
                own(Isa::Avx2, type) ? Linear::Path::Gemv : Linear::Path::GemmF32)
          << narrow.describe();
    }
  }
  EXPECT_EQ(Linear(q51.view, Compute::F32).path_for(4096), Linear::Path::GemmF32);
}

TEST(CpuLinear, ThreadCountDoesNotChangeGemvResults) {
  const RandomWeights w(WeightType::Q8_0, 1000, 256, 5);
  const Linear lin(w.view, Compute::F32, LinearOptions{-1});
  const std::vector<float> x = testing::random_floats(4 * 256, 9);
  std::vector<float> one(4 * 1000), two(4 * 1000);
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  lin.forward(x.data(), 4, one.data());
  set_num_threads(2);
  EXPECT_EQ(num_threads(), 2);
  lin.forward(x.data(), 4, two.data());
  set_num_threads(0);
  EXPECT_GE(num_threads(), 1);
  EXPECT_EQ(one, two);
}

// The layers of one input in one call give, bit for bit, what each gives alone: mixed block
// types and sizes (as a q4_k_m layer's q4_K q and k beside its q6_K v), float layers that
// run alone, one and two threads, and the row counts of decode, the grouped k-quant kernels
// and the many-row kernels.
TEST(CpuLinear, LayersOfOneInputMatchTheirOwnForwards) {
  struct Case {
    std::vector<WeightType> types;
    std::vector<int64_t> rows;
  };
  const Case cases[] = {
      {{WeightType::Q4_K, WeightType::Q4_K, WeightType::Q6_K}, {256, 64, 64}},
      {{WeightType::Q8_0, WeightType::Q8_0}, {1000, 1000}},
      {{WeightType::Q4_0, WeightType::Q5_K, WeightType::Q4_1}, {77, 33, 16}},
      {{WeightType::Q8_0, WeightType::F16}, {64, 48}},
  };
  constexpr int64_t kCols = 512;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const Case& c : cases) {
      std::vector<RandomWeights> weights;
      std::vector<Linear> lins;
      weights.reserve(c.types.size());
      lins.reserve(c.types.size());
      for (size_t i = 0; i < c.types.size(); ++i) {
        weights.emplace_back(c.types[i], c.rows[i], kCols, 31u + static_cast<uint32_t>(i));
        lins.emplace_back(weights.back().view, Compute::F32, LinearOptions{-1});
      }
      for (int64_t m : {1, 2, 4, 6, 9, 17}) {
        const std::vector<float> x =
            testing::random_floats(m * kCols, 3u + static_cast<uint32_t>(m));
        std::vector<std::vector<float>> alone, shared;
        std::vector<const Linear*> ptrs;
        std::vector<float*> ys;
        for (size_t i = 0; i < lins.size(); ++i) {
          alone.emplace_back(static_cast<size_t>(m * c.rows[i]));
          shared.emplace_back(static_cast<size_t>(m * c.rows[i]), -12345.0f);
          lins[i].forward(x.data(), m, alone.back().data());
          ptrs.push_back(&lins[i]);
          ys.push_back(shared.back().data());
        }
        Linear::forward_same_input(ptrs, x.data(), m, ys);
        for (size_t i = 0; i < lins.size(); ++i) {
          EXPECT_EQ(alone[i], shared[i])
              << to_string(c.types[i]) << " layer " << i << " of " << lins.size() << ", m=" << m
              << ", " << threads << " threads";
        }
      }
    }
  }
  set_num_threads(0);
  const RandomWeights a(WeightType::Q8_0, 8, 64, 1), b(WeightType::Q8_0, 8, 96, 2);
  const Linear la(a.view, Compute::F32), lb(b.view, Compute::F32);
  std::vector<float> x(96), ya(8), yb(8);
  const Linear* two[] = {&la, &lb};
  float* outs[] = {ya.data(), yb.data()};
  EXPECT_THROW(Linear::forward_same_input(two, x.data(), 1, outs), Error);  // 64 and 96 columns
  EXPECT_THROW(Linear::forward_same_input(two, x.data(), 1, std::span<float* const>(outs, 1)),
               Error);
}

TEST(CpuLinear, BadInputIsRejectedWithAClearError) {
  const RandomWeights w(WeightType::F32, 4, 40, 1);
  WeightView q8 = w.view;
  q8.type = WeightType::Q8_0;  // 40 columns are not whole q8_0 blocks
  EXPECT_THROW(Linear(q8, Compute::F32), Error);
  WeightView null_view{WeightType::F16, 4, 4, nullptr};
  EXPECT_THROW(Linear(null_view, Compute::F32), Error);
  const Linear lin(w.view, Compute::F32);
  float x = 0, y = 0;
  EXPECT_THROW(lin.forward(&x, -1, &y), Error);
  lin.forward(nullptr, 0, nullptr);  // m == 0 touches nothing
  try {
    Linear bad(q8, Compute::F32);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("multiple of 32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bricks::cpu
