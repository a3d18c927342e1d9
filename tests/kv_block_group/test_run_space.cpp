// RunSpace: group-aligned placement, growth in place, coalescing of freed runs.
#include <gtest/gtest.h>

#include <stdexcept>

#include "run_space.h"

namespace bricks::kv_block_group {
namespace {

std::vector<int32_t> range(int32_t start, int32_t count) {
  std::vector<int32_t> v;
  for (int32_t i = 0; i < count; ++i) v.push_back(start + i);
  return v;
}

TEST(RunSpace, NewRequestsStartInSeparateGroupsAndGrowInPlace) {
  RunSpace s(32, 8);
  std::vector<int32_t> a, b;
  s.take_for(a, 2, a);
  s.take_for(b, 2, b);
  EXPECT_EQ(a, range(0, 2));
  EXPECT_EQ(b, range(8, 2)) << "a second request starts in the next wholly free group";
  s.take_for(a, 6, a);
  EXPECT_EQ(a, range(0, 8)) << "growth continues right after the last block";
  s.take_for(a, 3, a);
  // Block 8 is b's: a goes on in the next free group.
  EXPECT_EQ(std::vector<int32_t>(a.begin() + 8, a.end()), range(16, 3));
  EXPECT_EQ(s.num_free(), 32 - 13);
}

TEST(RunSpace, FallsBackToTheLongestRunWhenNoGroupIsFree) {
  RunSpace s(16, 8);
  std::vector<int32_t> a, b, c;
  s.take_for(a, 3, a);   // 0..2
  s.take_for(b, 10, b);  // the free group 8..15, then the longest run left
  EXPECT_EQ(std::vector<int32_t>(b.begin(), b.begin() + 8), range(8, 8));
  EXPECT_EQ(std::vector<int32_t>(b.begin() + 8, b.end()), range(3, 2));
  s.take_for(c, 2, c);
  EXPECT_EQ(c, range(5, 2));
  EXPECT_EQ(s.num_free(), 1);
}

TEST(RunSpace, FreedRunsCoalesce) {
  RunSpace s(24, 8);
  std::vector<int32_t> all;
  s.take_packed(24, all);
  EXPECT_EQ(s.num_free(), 0);
  EXPECT_EQ(s.num_free_runs(), 0);
  s.release(range(4, 4));
  s.release(range(12, 4));
  EXPECT_EQ(s.num_free_runs(), 2);
  s.release(range(8, 4));
  EXPECT_EQ(s.num_free_runs(), 1);
  std::vector<int32_t> out;
  s.take_packed(12, out);
  EXPECT_EQ(out, range(4, 12)) << "one contiguous run after coalescing";
}

TEST(RunSpace, PackedTakesTheShortestRunThatFits) {
  RunSpace s(32, 4);
  std::vector<int32_t> all;
  s.take_packed(32, all);
  s.release(range(0, 10));
  s.release(range(20, 5));
  std::vector<int32_t> out;
  s.take_packed(5, out);
  EXPECT_EQ(out, range(20, 5));
  out.clear();
  s.release(range(20, 5));
  s.take_packed(12, out);  // no run of 12: longest first
  ASSERT_EQ(out.size(), 12u);
  EXPECT_EQ(std::vector<int32_t>(out.begin(), out.begin() + 10), range(0, 10));
}

TEST(RunSpace, DoubleFreeAndOutOfRangeAreRefused) {
  RunSpace s(8, 4);
  std::vector<int32_t> a;
  s.take_for(a, 4, a);
  s.release(a);
  EXPECT_THROW(s.release(a), std::logic_error);
  EXPECT_THROW(s.release_run(6, 4), std::logic_error);
  EXPECT_EQ(s.num_free(), 8);
}

TEST(RunSpace, TakeAtStopsAtHeldBlocks) {
  RunSpace s(16, 8);
  std::vector<int32_t> a, b;
  s.take_for(a, 2, a);
  s.take_for(b, 1, b);
  EXPECT_EQ(b, range(8, 1));
  std::vector<int32_t> out;
  EXPECT_EQ(s.take_at(2, 100, out), 6);
  EXPECT_EQ(out, range(2, 6));
  EXPECT_EQ(s.take_at(8, 1, out), 0);
  EXPECT_FALSE(s.is_free(8));
  EXPECT_TRUE(s.is_free(9));
}

}  // namespace
}  // namespace bricks::kv_block_group
