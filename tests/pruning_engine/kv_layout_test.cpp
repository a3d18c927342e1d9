// KV groups from pruning points (core/engine/kv_groups.h): slabs, groups per segment,
// refusals; and image inputs (core/engine/image_input.h): placeholder ids, placement,
// checks, files, generated embeddings.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include "engine/kv_groups.h"
#include "scratch_dir.h"
#include "workload/workload_images.h"

namespace bricks::testing {
namespace {

using engine::KvGroupLayout;

TEST(KvGroupLayout, NoPruningIsOneGroupOfAllLayers) {
  const KvGroupLayout g = KvGroupLayout::make(6, {});
  EXPECT_EQ(g.slabs, 6);
  EXPECT_EQ(g.num_groups(), 1);
  for (int32_t l = 0; l < 6; ++l) {
    EXPECT_EQ(g.group_of_layer[l], 0);
    EXPECT_EQ(g.slab_of_layer[l], l);
    EXPECT_FALSE(g.opens_group(l));
  }
}

TEST(KvGroupLayout, LaterSegmentsSplitIntoGroupsOfSegmentZerosSize) {
  const KvGroupLayout g = KvGroupLayout::make(12, {2});
  EXPECT_EQ(g.slabs, 3);
  ASSERT_EQ(g.num_groups(), 4);
  EXPECT_EQ(g.first_layer, (std::vector<int32_t>{0, 3, 6, 9}));
  EXPECT_EQ(g.segment_of_group, (std::vector<int32_t>{0, 1, 1, 1}));
  EXPECT_EQ(g.slab_of_layer, (std::vector<int32_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
  EXPECT_TRUE(g.opens_group(3));
  EXPECT_TRUE(g.opens_group(9));
  EXPECT_FALSE(g.opens_group(4));
  EXPECT_TRUE(g.prunes_after(2));
  EXPECT_FALSE(g.prunes_after(3));
}

TEST(KvGroupLayout, UnevenSegmentsStartFreshGroupsAtEachPoint) {
  const KvGroupLayout g = KvGroupLayout::make(12, {5, 2});  // order does not matter
  EXPECT_EQ(g.prune_after, (std::vector<int32_t>{2, 5}));
  EXPECT_EQ(g.slabs, 3);
  // Segment 1 = layers 3..5 (one group), segment 2 = layers 6..11 (two groups).
  EXPECT_EQ(g.first_layer, (std::vector<int32_t>{0, 3, 6, 9}));
  EXPECT_EQ(g.segment_of_group, (std::vector<int32_t>{0, 1, 2, 2}));
  const KvGroupLayout odd = KvGroupLayout::make(6, {1});  // slabs 2: 2..3, 4..5
  EXPECT_EQ(odd.first_layer, (std::vector<int32_t>{0, 2, 4}));
  const KvGroupLayout late = KvGroupLayout::make(6, {3});  // slabs 4: 4..5 use 2 of them
  EXPECT_EQ(late.first_layer, (std::vector<int32_t>{0, 4}));
  EXPECT_EQ(late.slab_of_layer[5], 1);
}

TEST(KvGroupLayout, RefusesLayersThatCannotPrune) {
  EXPECT_THROW(KvGroupLayout::make(6, {5}), std::invalid_argument);
  EXPECT_THROW(KvGroupLayout::make(6, {-1}), std::invalid_argument);
  EXPECT_THROW(KvGroupLayout::make(6, {2, 2}), std::invalid_argument);
}

engine::ImageInput image(int32_t w, int32_t h, int32_t hidden, uint64_t seed) {
  engine::ImageInput im;
  im.grid_w = w;
  im.grid_h = h;
  im.embeddings = std::make_shared<const std::vector<float>>(
      engine::generate_image_embeddings(w, h, hidden, 1.0f, seed));
  return im;
}

TEST(ImageInput, PlaceholdersAreNegativeDeterministicAndDifferPerImage) {
  engine::RequestSpec a, b, a2;
  a.prompt = b.prompt = a2.prompt = {1, 2, 3};
  engine::place_image(a, 1, image(4, 4, 8, 1), 8);
  engine::place_image(a2, 1, image(4, 4, 8, 1), 8);
  engine::place_image(b, 1, image(4, 4, 8, 2), 8);
  ASSERT_EQ(a.prompt.size(), 19u);
  EXPECT_EQ(a.prompt.front(), 1);
  EXPECT_EQ(a.prompt[17], 2);
  EXPECT_EQ(a.images[0].offset, 1);
  std::set<int32_t> ids;
  for (int32_t i = 1; i < 17; ++i) {
    EXPECT_LT(a.prompt[i], 0);
    EXPECT_NE(a.prompt[i], b.prompt[i]) << "patch " << i - 1;
    ids.insert(a.prompt[i]);
  }
  EXPECT_EQ(ids.size(), 16u);
  EXPECT_EQ(a.prompt, a2.prompt);
  EXPECT_EQ(engine::check_images(a, 8), "");
}

TEST(ImageInput, PlacementShiftsLaterImagesAndChecksCatchTampering) {
  engine::RequestSpec s;
  s.prompt = {1, 2, 3, 4};
  engine::place_image(s, 3, image(2, 2, 8, 1), 8);
  engine::place_image(s, 1, image(3, 1, 8, 2), 8);
  ASSERT_EQ(s.images.size(), 2u);
  EXPECT_EQ(s.images[0].offset, 1);
  EXPECT_EQ(s.images[1].offset, 6);
  EXPECT_EQ(engine::check_images(s, 8), "");
  EXPECT_NE(engine::image_row(s, 7, 8), nullptr);
  EXPECT_EQ(engine::image_row(s, 0, 8), nullptr);
  EXPECT_EQ(engine::image_row(s, 4, 8), nullptr);
  EXPECT_NE(engine::check_images(s, 16), "") << "wrong hidden width";
  engine::RequestSpec t = s;
  t.prompt[7] = 5;
  EXPECT_NE(engine::check_images(t, 8).find("placeholder"), std::string::npos);
  EXPECT_THROW(engine::place_image(s, 0, image(2, 2, 4, 1), 8), engine::ImageError);
}

TEST(ImageInput, GeneratedRowsHaveTheAskedRmsAndNeighboursAreAlike) {
  const auto v = engine::generate_image_embeddings(8, 8, 64, 0.5f, 7);
  ASSERT_EQ(v.size(), 8u * 8u * 64u);
  double ss = 0;
  for (int j = 0; j < 64; ++j) ss += v[j] * v[j];
  EXPECT_NEAR(std::sqrt(ss / 64), 0.5, 1e-3);
  auto cosine = [&](int a, int b) {
    double ab = 0, aa = 0, bb = 0;
    for (int j = 0; j < 64; ++j) {
      ab += v[a * 64 + j] * v[b * 64 + j];
      aa += v[a * 64 + j] * v[a * 64 + j];
      bb += v[b * 64 + j] * v[b * 64 + j];
    }
    return ab / std::sqrt(aa * bb);
  };
  double near = 0, far = 0;
  for (int y = 0; y < 7; ++y) {
    near += cosine(y * 8 + 3, y * 8 + 4);
    far += cosine(y * 8, (7 - y) * 8 + 7);
  }
  EXPECT_GT(near, far);
  EXPECT_EQ(v, engine::generate_image_embeddings(8, 8, 64, 0.5f, 7));
}

std::filesystem::path temp_file(const std::string& name) {
  return scratch_dir("bricks-image-test") / name;
}

TEST(ImageInput, ReadsNpyAndSafetensors) {
  const std::vector<float> data = {1, 2, 3, 4, 5, 6};
  const auto npy = temp_file("a.npy");
  {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
    header.append(128 - 10 - header.size() - 1, ' ');
    header += '\n';
    std::ofstream o(npy, std::ios::binary);
    o.write("\x93NUMPY\x01\x00", 8);
    const char len[2] = {static_cast<char>(header.size()), 0};
    o.write(len, 2);
    o << header;
    o.write(reinterpret_cast<const char*>(data.data()), 24);
  }
  int32_t rows = 0;
  EXPECT_EQ(engine::load_image_embeddings(npy, 2, &rows), data);
  EXPECT_EQ(rows, 3);
  EXPECT_THROW(engine::load_image_embeddings(npy, 3, &rows), engine::ImageError);

  const auto st = temp_file("a.safetensors");
  {
    const std::string json = R"({"img":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]}})";
    const uint64_t n = json.size();
    std::ofstream o(st, std::ios::binary);
    o.write(reinterpret_cast<const char*>(&n), 8);
    o << json;
    o.write(reinterpret_cast<const char*>(data.data()), 24);
  }
  EXPECT_EQ(engine::load_image_embeddings(st, 2, &rows), data);
  EXPECT_THROW(engine::load_image_embeddings(temp_file("missing.npy"), 2, &rows),
               engine::ImageError);
  EXPECT_THROW(engine::load_image_embeddings(temp_file("x.bin"), 2, &rows), engine::ImageError);
  std::filesystem::remove(npy);
  std::filesystem::remove(st);
}

TEST(ImageInput, AttachFollowsTheManifest) {
  std::vector<engine::RequestSpec> specs(4);
  for (auto& s : specs) s.prompt = {1, 2, 3, 4, 5};
  manifest::Images im;
  im.set_grid_w(3);
  im.set_grid_h(2);
  im.set_fraction(0.5);
  im.set_text_before(2);
  im.set_seed(9);
  engine::attach_images(specs, im, ".", 16, 0.1f);
  int32_t with = 0;
  for (const auto& s : specs) {
    if (s.images.empty()) continue;
    ++with;
    EXPECT_EQ(s.images[0].offset, 2);
    EXPECT_EQ(s.prompt.size(), 11u);
    EXPECT_EQ(engine::check_images(s, 16), "");
  }
  EXPECT_EQ(with, 2);
  im.set_grid_w(0);
  EXPECT_THROW(engine::attach_images(specs, im, ".", 16, 0.1f), engine::ImageError);
}

}  // namespace
}  // namespace bricks::testing
