// GGUF metadata: every value type written by GgufWriter reads back equal, in order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "bricks/model/gguf.h"
#include "test_files.h"

namespace bricks::model {
namespace {

using S = GgufValue::Storage;

TEST(GgufMetadata, EveryValueTypeRoundTrips) {
  std::vector<std::pair<std::string, GgufValue>> kv = {
      {"t.u8", {S{std::in_place_type<uint8_t>, uint8_t{200}}}},
      {"t.i8", {S{std::in_place_type<int8_t>, int8_t{-100}}}},
      {"t.u16", {S{std::in_place_type<uint16_t>, uint16_t{60000}}}},
      {"t.i16", {S{std::in_place_type<int16_t>, int16_t{-30000}}}},
      {"t.u32", GgufValue::u32(4000000000u)},
      {"t.i32", GgufValue::i32(-2000000000)},
      {"t.f32", GgufValue::f32(3.25f)},
      {"t.bool", GgufValue::boolean(true)},
      {"t.string", GgufValue::str("héllo ▁ world")},
      {"t.u64", {S{std::in_place_type<uint64_t>, uint64_t{1} << 63}}},
      {"t.i64", {S{std::in_place_type<int64_t>, int64_t{-1} << 62}}},
      {"t.f64", {S{std::in_place_type<double>, 2.5e-300}}},
      {"t.empty_string", GgufValue::str("")},
      {"t.array_i32", GgufValue::array(GgufType::I32, {GgufValue::i32(1), GgufValue::i32(-2)})},
      {"t.array_empty", GgufValue::array(GgufType::F32, {})},
      {"t.nested_strings",
       GgufValue::array(GgufType::ARRAY,
                        {GgufValue::array(GgufType::STRING, {GgufValue::str("a"), GgufValue::str("bc")}),
                         GgufValue::array(GgufType::STRING, {}),
                         GgufValue::array(GgufType::STRING, {GgufValue::str("<0x0A>")})})},
  };
  const auto p = testing::temp_dir() / "meta.gguf";
  GgufWriter w(64);
  for (const auto& [k, v] : kv) w.set(k, v);
  w.add_tensor("x", DType::F16, {3});
  w.write(p, [](size_t, const GgufWriter::Sink& sink) {
    const uint16_t h[3] = {f32_to_f16(1.f), f32_to_f16(-2.f), f32_to_f16(0.5f)};
    sink(h, sizeof h);
  });

  auto f = GgufFile::open(p);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset() % 64, 0u);
  ASSERT_EQ(f->metadata().size(), kv.size() + 1);  // + general.alignment written first
  EXPECT_EQ(f->metadata()[0].first, "general.alignment");
  for (size_t i = 0; i < kv.size(); ++i) {
    EXPECT_EQ(f->metadata()[i + 1].first, kv[i].first);
    EXPECT_EQ(f->metadata()[i + 1].second, kv[i].second) << kv[i].first;
    EXPECT_EQ(f->metadata()[i + 1].second.type(), kv[i].second.type()) << kv[i].first;
  }
  EXPECT_EQ(f->get_int("t.u16"), 60000);
  EXPECT_EQ(f->get_int("t.i64"), int64_t{-1} << 62);
  EXPECT_EQ(f->get_float("t.f32"), 3.25);
  EXPECT_EQ(f->get_string("t.string"), "héllo ▁ world");
  EXPECT_EQ(f->get_bool("t.bool"), true);
  EXPECT_EQ(f->get_int("absent"), std::nullopt);
  EXPECT_THROW(f->get_int("t.string"), ModelError);
  EXPECT_THROW(f->get_string("t.u8"), ModelError);
  EXPECT_EQ(f->find("t.u64")->as_int(), std::nullopt);  // 2^63 does not fit int64
  const GgufArray* nested = f->get_array("t.nested_strings");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->items.size(), 3u);
  EXPECT_EQ(*nested->items[0].as_array()->items[1].as_string(), "bc");

  const GgufTensorInfo* x = f->find_tensor("x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->dtype, DType::F16);
  EXPECT_EQ(x->nbytes, 6u);
  const auto* h = static_cast<const uint16_t*>(f->tensor_data(*x));
  EXPECT_EQ(f16_to_f32(h[1]), -2.f);
}

TEST(GgufMetadata, DuplicateKeyAndHugeArrayAreErrors) {
  const auto dir = testing::temp_dir();
  GgufWriter w;
  w.set("ka", GgufValue::u32(1));
  w.set("kb", GgufValue::u32(2));
  auto head = w.header();
  const std::string kb = "kb";
  auto it = std::search(head.begin(), head.end(), kb.begin(), kb.end());
  ASSERT_NE(it, head.end());
  *(it + 1) = 'a';  // both keys now read "ka"
  testing::write_bytes(dir / "dup.gguf", head);
  EXPECT_THAT([&] { GgufFile::open(dir / "dup.gguf"); },
              ::testing::ThrowsMessage<ModelError>(::testing::HasSubstr("duplicate metadata key 'ka'")));

  GgufWriter big;
  big.set("arr", GgufValue::array(GgufType::U64, {GgufValue{S{std::in_place_type<uint64_t>, 1u}}}));
  auto bytes = big.header();
  // The array length follows "arr", the value type (9) and the element type (10).
  const size_t len_at = 24 + 8 + 3 + 4 + 4;
  bytes[len_at + 6] = 0x7F;  // about 2^55 items
  testing::write_bytes(dir / "huge.gguf", bytes);
  EXPECT_THAT([&] { GgufFile::open(dir / "huge.gguf"); },
              ::testing::ThrowsMessage<ModelError>(::testing::HasSubstr("does not fit in the rest of the file")));
}

}  // namespace
}  // namespace bricks::model
