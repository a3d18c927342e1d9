// Adapter conformance: any adapter brick in adapter_cases() loads GGUF LoRA files and PEFT
// directories made by make_adapter, reports rank and targets, adds scale * B (A x) to exactly the
// rows of each adapter (grouped over segments), leaves other rows and projections untouched, and
// returns errors, never crashes, on bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "adapter_conformance.h"
#include "brick_harness.h"
#include "bricks/model/make_adapter.h"
#include "scratch_dir.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

// A small GQA shape: q has 4 heads, k/v 2, so q and k rows permute differently.
model::LlamaConfig small_shape() {
  model::LlamaConfig c;
  c.name = "conformance";
  c.n_layers = 3;
  c.hidden = 64;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 16;
  c.ffn = 96;
  c.vocab_size = 128;
  return c;
}

bricks_adapter_base base_of(const model::LlamaConfig& c) {
  return {sizeof(bricks_adapter_base),
          c.n_layers,
          c.hidden,
          c.n_heads,
          c.n_kv_heads,
          c.head_dim,
          c.ffn};
}

fs::path temp_dir() { return scratch_dir("bricks-adapter-conf"); }

model::MakeAdapterOptions options(const std::string& format, uint64_t seed) {
  model::MakeAdapterOptions o;
  o.base = small_shape();
  o.rank = seed == 2 ? 20 : 4;  // 20: a rank past one block of 16 plus a tail
  o.alpha = 6.f;
  o.targets = {"attn_q", "attn_k", "attn_output", "ffn_down"};
  o.layers = {0, 2};
  o.format = format;
  o.seed = seed;
  o.out = temp_dir() / ("a" + std::to_string(seed) + (format == "gguf" ? ".gguf" : "-peft"));
  return o;
}

fs::path make(const model::MakeAdapterOptions& o) {
  if (!fs::exists(o.out)) model::make_adapter(o);
  return o.out;
}

class AdapterConformance : public ::testing::TestWithParam<BrickCase> {
 protected:
  void SetUp() override {
    brick_ = create_brick(BRICKS_KIND_ADAPTER, GetParam().name, GetParam().params);
    ASSERT_TRUE(brick_);
    vt_ = brick_->vt<bricks_adapter_vtable>();
  }
  std::string configure(const model::LlamaConfig& c) {
    const bricks_adapter_base b = base_of(c);
    return take_error(vt_->configure(brick_->instance(), &b));
  }
  // Loads `path`; the handle, or -1 with the error in `error`.
  int32_t load(const fs::path& path, std::string* error = nullptr, float scale = 1.f) {
    int32_t h = -1;
    const std::string e = take_error(vt_->load(brick_->instance(), path.c_str(), scale, &h));
    if (error != nullptr) *error = e;
    return e.empty() ? h : -1;
  }
  std::string apply(bricks_adapter_apply& a) {
    return take_error(vt_->apply(brick_->instance(), &a));
  }

  std::unique_ptr<HarnessBrick> brick_;
  const bricks_adapter_vtable* vt_ = nullptr;
};

TEST_P(AdapterConformance, VtableHasEveryRequiredVerb) {
  EXPECT_EQ(brick_->desc().kind, BRICKS_KIND_ADAPTER);
  EXPECT_GE(vt_->struct_size, offsetof(bricks_adapter_vtable, unload));
  EXPECT_NE(vt_->configure, nullptr);
  EXPECT_NE(vt_->load, nullptr);
  EXPECT_NE(vt_->info, nullptr);
  EXPECT_NE(vt_->apply, nullptr);
}

TEST_P(AdapterConformance, LoadBeforeConfigureIsAnError) {
  std::string error;
  EXPECT_EQ(load(make(options("gguf", 1)), &error), -1);
  EXPECT_NE(error, "");
}

TEST_P(AdapterConformance, InfoReportsRankTargetsAndScale) {
  ASSERT_EQ(configure(small_shape()), "");
  for (const std::string format : {"gguf", "peft"}) {
    const auto o = options(format, 1);
    const int32_t h = load(make(o));
    ASSERT_GE(h, 0) << format;
    bricks_adapter_info info{};
    info.struct_size = sizeof(info);
    ASSERT_EQ(take_error(vt_->info(brick_->instance(), h, &info)), "");
    EXPECT_STREQ(info.format, format.c_str());
    EXPECT_EQ(info.rank, 4);
    EXPECT_FLOAT_EQ(info.alpha, 6.f);
    EXPECT_FLOAT_EQ(info.scale, 1.5f);  // alpha / rank
    EXPECT_EQ(info.targets, (1u << BRICKS_PROJ_Q) | (1u << BRICKS_PROJ_K) | (1u << BRICKS_PROJ_O) |
                                (1u << BRICKS_PROJ_DOWN));
    EXPECT_EQ(info.num_layers, 2);
    // Per layer: q (64 + 64) + k (64 + 32) + o (64 + 64) + down (96 + 64), times rank 4.
    EXPECT_EQ(info.num_params, 2 * 4 * (128 + 96 + 128 + 160));
  }
}

// The update of one row by one adapter, in double, from the matrices make_adapter wrote.
void add_update(const std::vector<model::AdapterMatrices>& ms, int32_t layer,
                const std::string& target, double scale, const float* x, int64_t in, double* y,
                int64_t out) {
  for (const auto& m : ms) {
    if (m.layer != layer || m.target != target) continue;
    std::vector<double> t(static_cast<size_t>(m.rank), 0.0);
    for (int64_t r = 0; r < m.rank; ++r) {
      for (int64_t k = 0; k < in; ++k) t[r] += double{m.a[r * in + k]} * x[k];
    }
    for (int64_t o = 0; o < out; ++o) {
      for (int64_t r = 0; r < m.rank; ++r) y[o] += scale * m.b[o * m.rank + r] * t[r];
    }
  }
}

struct Case {
  int32_t layer;
  int32_t proj;
  const char* target;
  int32_t in, out;
};

TEST_P(AdapterConformance, ApplyAddsEachSegmentsAdapterAndNothingElse) {
  ASSERT_EQ(configure(small_shape()), "");
  for (const std::string format : {"gguf", "peft"}) {
    const auto oa = options(format, 1), ob = options(format, 2);
    const int32_t ha = load(make(oa), nullptr, 1.f);
    const int32_t hb = load(make(ob), nullptr, 0.5f);
    ASSERT_GE(ha, 0);
    ASSERT_GE(hb, 0);
    const auto ma = model::adapter_matrices(oa), mb = model::adapter_matrices(ob);
    // Segments: rows 0-1 a, 2 none, 3-5 b, 6 a (a appears twice: grouped), 7-8 none.
    const std::vector<int32_t> indptr = {0, 2, 3, 6, 7, 9};
    const std::vector<int32_t> adapter = {ha, -1, hb, ha, -1};
    const int32_t rows = 9;
    for (const Case c :
         {Case{0, BRICKS_PROJ_Q, "attn_q", 64, 64}, Case{2, BRICKS_PROJ_K, "attn_k", 64, 32},
          Case{0, BRICKS_PROJ_DOWN, "ffn_down", 96, 64},
          Case{1, BRICKS_PROJ_Q, "attn_q", 64, 64},     // layer not adapted
          Case{0, BRICKS_PROJ_V, "attn_v", 64, 32}}) {  // proj not adapted
      std::mt19937 rng(7);
      std::uniform_real_distribution<float> u(-1.f, 1.f);
      std::vector<float> x(static_cast<size_t>(rows * c.in)), y(static_cast<size_t>(rows * c.out));
      for (float& v : x) v = u(rng);
      for (float& v : y) v = u(rng);
      const std::vector<float> y0 = y;
      bricks_adapter_apply a{sizeof(a),
                             c.layer,
                             c.proj,
                             c.in,
                             c.out,
                             rows,
                             x.data(),
                             y.data(),
                             indptr.data(),
                             adapter.data(),
                             static_cast<int32_t>(adapter.size())};
      ASSERT_EQ(apply(a), "") << format << " " << c.target;
      for (int32_t s = 0; s < static_cast<int32_t>(adapter.size()); ++s) {
        for (int32_t r = indptr[s]; r < indptr[s + 1]; ++r) {
          std::vector<double> want(y0.begin() + r * c.out, y0.begin() + (r + 1) * c.out);
          if (adapter[s] == ha)
            add_update(ma, c.layer, c.target, 1.5, &x[r * c.in], c.in, want.data(), c.out);
          if (adapter[s] == hb)
            add_update(mb, c.layer, c.target, 6.0 / 20 * 0.5, &x[r * c.in], c.in, want.data(),
                       c.out);
          for (int32_t o = 0; o < c.out; ++o) {
            if (adapter[s] < 0) {
              ASSERT_EQ(y[r * c.out + o], y0[r * c.out + o]) << "row without adapter changed";
            } else {
              ASSERT_NEAR(y[r * c.out + o], want[o], 1e-5)
                  << format << " " << c.target << " layer " << c.layer << " row " << r;
            }
          }
        }
      }
    }
  }
}

TEST_P(AdapterConformance, BadInputIsAnErrorNotACrash) {
  ASSERT_EQ(configure(small_shape()), "");
  std::string error;
  EXPECT_EQ(load(temp_dir() / "missing.gguf", &error), -1);
  EXPECT_NE(error.find("missing.gguf"), std::string::npos) << error;

  // An adapter made for another shape names the file and the mismatch.
  auto other = options("gguf", 3);
  other.base.hidden = 32;
  other.base.n_heads = 2;
  other.base.n_kv_heads = 1;
  other.out = temp_dir() / "other-shape.gguf";
  EXPECT_EQ(load(make(other), &error), -1);
  EXPECT_NE(error.find("other-shape.gguf"), std::string::npos) << error;

  // A file that is not GGUF at all.
  const fs::path junk = temp_dir() / "junk.gguf";
  {
    std::FILE* f = std::fopen(junk.c_str(), "wb");
    std::fputs("not a model", f);
    std::fclose(f);
  }
  EXPECT_EQ(load(junk, &error), -1);
  EXPECT_NE(error, "");

  // A truncated GGUF adapter.
  const fs::path good = make(options("gguf", 1));
  const fs::path cut = temp_dir() / "truncated.gguf";
  fs::copy_file(good, cut, fs::copy_options::overwrite_existing);
  fs::resize_file(cut, fs::file_size(good) / 2);
  EXPECT_EQ(load(cut, &error), -1);
  EXPECT_NE(error, "");

  const int32_t h = load(good);
  ASSERT_GE(h, 0);
  bricks_adapter_info info{};
  info.struct_size = sizeof(info);
  EXPECT_NE(take_error(vt_->info(brick_->instance(), h + 100, &info)), "");

  std::vector<float> x(2 * 64, 0.5f), y(2 * 64, 0.f);
  const std::vector<int32_t> indptr = {0, 2};
  std::vector<int32_t> adapter = {h + 100};  // not a handle
  bricks_adapter_apply a{
      sizeof(a), 0, BRICKS_PROJ_Q, 64, 64, 2, x.data(), y.data(), indptr.data(), adapter.data(), 1};
  EXPECT_NE(apply(a), "");
  adapter[0] = h;
  a.num_rows = 3;  // indptr does not end at num_rows
  EXPECT_NE(apply(a), "");
  a.num_rows = 2;
  a.in_dim = 32;  // not the projection's shape
  EXPECT_NE(apply(a), "");
  a.in_dim = 64;
  a.proj = BRICKS_PROJ_COUNT_;
  EXPECT_NE(apply(a), "");
  a.proj = BRICKS_PROJ_Q;
  EXPECT_EQ(apply(a), "");
}

TEST_P(AdapterConformance, UnloadedHandlesAreRefused) {
  if (vt_->unload == nullptr) GTEST_SKIP() << "unload is optional";
  ASSERT_EQ(configure(small_shape()), "");
  const int32_t h = load(make(options("gguf", 1)));
  ASSERT_GE(h, 0);
  ASSERT_EQ(take_error(vt_->unload(brick_->instance(), h)), "");
  bricks_adapter_info info{};
  info.struct_size = sizeof(info);
  EXPECT_NE(take_error(vt_->info(brick_->instance(), h, &info)), "");
  std::vector<float> x(64, 0.5f), y(64, 0.f);
  const std::vector<int32_t> indptr = {0, 1};
  const std::vector<int32_t> adapter = {h};
  bricks_adapter_apply a{
      sizeof(a), 0, BRICKS_PROJ_Q, 64, 64, 1, x.data(), y.data(), indptr.data(), adapter.data(), 1};
  EXPECT_NE(apply(a), "");
}

INSTANTIATE_TEST_SUITE_P(AdapterBricks, AdapterConformance, ::testing::ValuesIn(adapter_cases()),
                         brick_case_label);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(AdapterConformance);

}  // namespace
}  // namespace bricks::testing
