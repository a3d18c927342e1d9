#include <gtest/gtest.h>

#include "host/catalogue.h"
#include "host/host_error.h"

namespace bricks::host {
namespace {

BrickInfo sample() {
  BrickInfo b;
  b.kind = BRICKS_KIND_KV;
  b.name = "paged";
  b.version = "1.0.0";
  b.summary = "Blocks.";
  ParamInfo i{"block_size", BRICKS_PARAM_INT, "Tokens per block.", true, 16, 0, "", 1, 256};
  ParamInfo f{"ratio", BRICKS_PARAM_FLOAT, "A ratio.", true, 0, 0.25, "", 0, 0, 0.0, 1.0};
  ParamInfo e{"evict", BRICKS_PARAM_ENUM, "Policy.", true, 0, 0, "lru", 0, 0, 0,
              0,       {"lru", "fifo"}};
  ParamInfo s{"tag", BRICKS_PARAM_STRING, "", false};
  ParamInfo o{"swap", BRICKS_PARAM_BOOL, "", true, 1, 0, "", 0, 1};
  b.params = {i, f, e, s, o};
  b.provides = {"kv.swap"};
  b.requires_ = {"device.cpu"};
  b.file = "/p/libpaged.so";
  b.plugin_name = "paged";
  b.plugin_version = "1.0.1";
  b.license = "Apache-2.0";
  return b;
}

TEST(CatalogueJson, RoundTripsEveryField) {
  Catalogue c;
  c.bricks = {sample()};
  c.broken = {{"/p/libbad.so", "crashed with SIGSEGV while loading"}};
  Catalogue back = catalogue_from_json(to_json(c));
  ASSERT_EQ(back.bricks.size(), 1u);
  const BrickInfo& b = back.bricks[0];
  EXPECT_EQ(b.kind, BRICKS_KIND_KV);
  EXPECT_EQ(b.name, "paged");
  EXPECT_EQ(b.license, "Apache-2.0");
  EXPECT_EQ(b.plugin_version, "1.0.1");
  EXPECT_EQ(b.provides, std::vector<std::string>{"kv.swap"});
  EXPECT_EQ(b.requires_, std::vector<std::string>{"device.cpu"});
  ASSERT_EQ(b.params.size(), 5u);
  EXPECT_EQ(b.params[0].default_int, 16);
  EXPECT_EQ(b.params[0].max_int, 256);
  EXPECT_DOUBLE_EQ(b.params[1].default_float, 0.25);
  EXPECT_EQ(b.params[2].choices, (std::vector<std::string>{"lru", "fifo"}));
  EXPECT_EQ(b.params[2].default_string, "lru");
  EXPECT_FALSE(b.params[3].has_default);
  EXPECT_EQ(b.params[4].default_int, 1);
  ASSERT_EQ(back.broken.size(), 1u);
  EXPECT_EQ(back.broken[0].reason, "crashed with SIGSEGV while loading");
}

TEST(CatalogueJson, MalformedInputIsAnErrorNotACrash) {
  EXPECT_THROW(catalogue_from_json("garbage"), BrickError);
  EXPECT_THROW(catalogue_from_json("{\"bricks\": [{\"kind\": \"nope\"}], \"broken\": []}"),
               BrickError);
  EXPECT_THROW(catalogue_from_json(""), BrickError);
}

TEST(Catalogue, KindNamesRoundTrip) {
  for (int k = 0; k < BRICKS_KIND_COUNT_; ++k) {
    bricks_kind parsed{};
    ASSERT_TRUE(parse_kind(kind_name(static_cast<bricks_kind>(k)), &parsed));
    EXPECT_EQ(parsed, k);
  }
  bricks_kind unused{};
  EXPECT_FALSE(parse_kind("schedulers", &unused));
}

TEST(Catalogue, ParamTextsForInspect) {
  BrickInfo b = sample();
  EXPECT_EQ(param_default_text(b.params[0]), "16");
  EXPECT_EQ(param_range_text(b.params[0]), "[1, 256]");
  EXPECT_EQ(param_range_text(b.params[1]), "[0, 1]");
  EXPECT_EQ(param_default_text(b.params[2]), "\"lru\"");
  EXPECT_EQ(param_range_text(b.params[2]), "lru|fifo");
  EXPECT_EQ(param_default_text(b.params[3]), "required");
  EXPECT_EQ(param_default_text(b.params[4]), "true");
}

}  // namespace
}  // namespace bricks::host
