// The profile cache: what one plan stores, the next reads back as cached; another key
// (another SLO, manifest or grid) reads nothing.
#include <gtest/gtest.h>

#include "plan/plan_cache.h"
#include "scratch_dir.h"

namespace bricks::plan {
namespace {

TEST(PlanCache, StoredCapacitiesComeBackCachedUnderTheSameKeyOnly) {
  const std::filesystem::path dir = bricks::testing::scratch_dir("plan-cache") / "cache";
  {
    ProfileCache c(dir, "key one");
    EXPECT_FALSE(c.find("l4", 5, 5).has_value());
    c.put("l4", 5, 5, BucketCapacity{12.5, 9, "", false});
    c.put("l4", 50, 5, BucketCapacity{0, 1, "a request alone misses the SLO", false});
  }
  ProfileCache again(dir, "key one");
  const auto hit = again.find("l4", 5, 5);
  ASSERT_TRUE(hit.has_value());
  EXPECT_DOUBLE_EQ(hit->rate, 12.5);
  EXPECT_EQ(hit->runs, 9);
  EXPECT_TRUE(hit->cached);
  EXPECT_EQ(again.find("l4", 50, 5)->note, "a request alone misses the SLO");
  EXPECT_FALSE(again.find("a10g", 5, 5).has_value());

  ProfileCache other(dir, "key two");
  EXPECT_FALSE(other.find("l4", 5, 5).has_value());
  EXPECT_NE(other.file("l4"), again.file("l4"));

  ProfileCache none({}, "key one");
  EXPECT_FALSE(none.enabled());
  EXPECT_FALSE(none.find("l4", 5, 5).has_value());
}

}  // namespace
}  // namespace bricks::plan
