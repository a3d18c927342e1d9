// Pins the layout of every public struct of the SDK (abi_layout_pins.h), as the C and the
// C++ compilers see it, and the values of the ABI's enums. A failure names the struct and
// the field that moved: static_asserts would stop at the first one without saying where.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "abi_layout_c.h"
#include "abi_layout_pins.h"
#include "bricks/abi.h"

namespace {

struct Row {
  std::string type;
  std::string field;  // "" for the struct's size
  size_t actual;
  size_t pinned;
  size_t actual_align;
  size_t pinned_align;
};

#define CXX_STRUCT(type, size, align) {#type, "", sizeof(type), size, alignof(type), align},
#define CXX_FIELD(type, field, offset) {#type, #field, offsetof(type, field), offset, 0, 0},

std::vector<Row> cxx_rows() { return {BRICKS_ABI_LAYOUT(CXX_STRUCT, CXX_FIELD)}; }

std::string describe(const Row& r, size_t actual) {
  if (r.field.empty()) {
    return "sizeof(" + r.type + ") is " + std::to_string(actual) + ", pinned " +
           std::to_string(r.pinned);
  }
  return r.type + "." + r.field + " moved: offset " + std::to_string(actual) + ", pinned " +
         std::to_string(r.pinned);
}

TEST(AbiLayout, EveryStructAndFieldIsWherePinnedInCxx) {
  int moved = 0;
  for (const Row& r : cxx_rows()) {
    if (r.actual != r.pinned) {
      ADD_FAILURE() << describe(r, r.actual);
      ++moved;
    }
    if (r.field.empty() && r.actual_align != r.pinned_align) {
      ADD_FAILURE() << "alignof(" << r.type << ") is " << r.actual_align << ", pinned "
                    << r.pinned_align;
      ++moved;
    }
  }
  EXPECT_EQ(moved, 0) << "the public ABI changed: bump BRICKS_ABI_MAJOR (or MINOR for a field "
                         "appended to a struct with struct_size) and update abi_layout_pins.h";
}

TEST(AbiLayout, CAgreesWithThePins) {
  size_t count = 0;
  const abi_layout_entry* c = abi_layout_from_c(&count);
  std::vector<Row> rows = cxx_rows();
  ASSERT_EQ(count, rows.size());
  for (size_t i = 0; i < count; ++i) {
    ASSERT_EQ(rows[i].type, c[i].type);
    ASSERT_EQ(rows[i].field, c[i].field);
    EXPECT_EQ(c[i].value, rows[i].pinned) << "in C: " << describe(rows[i], c[i].value);
    if (rows[i].field.empty()) {
      EXPECT_EQ(c[i].align, rows[i].pinned_align) << "in C: alignof(" << rows[i].type << ")";
    }
  }
}

TEST(AbiLayout, PinsCoverEveryPublicStruct) {
  // Adding a struct to the SDK means adding it to abi_layout_pins.h; this count says so.
  size_t structs = 0;
  for (const Row& r : cxx_rows()) structs += r.field.empty() ? 1 : 0;
  EXPECT_EQ(structs, 36u);
}

TEST(AbiLayout, EnumValuesArePinned) {
  EXPECT_EQ(sizeof(bricks_kind), 4u);
  EXPECT_EQ(sizeof(bricks_param_type), 4u);
  EXPECT_EQ(BRICKS_OK, 0);
  EXPECT_EQ(BRICKS_INVALID_ARGUMENT, 1);
  EXPECT_EQ(BRICKS_RESOURCE_EXHAUSTED, 2);
  EXPECT_EQ(BRICKS_UNSUPPORTED, 3);
  EXPECT_EQ(BRICKS_INTERNAL, 4);
  EXPECT_EQ(BRICKS_PARAM_INT, 0);
  EXPECT_EQ(BRICKS_PARAM_FLOAT, 1);
  EXPECT_EQ(BRICKS_PARAM_BOOL, 2);
  EXPECT_EQ(BRICKS_PARAM_STRING, 3);
  EXPECT_EQ(BRICKS_PARAM_ENUM, 4);
  EXPECT_EQ(BRICKS_KIND_SCHEDULER, 0);
  EXPECT_EQ(BRICKS_KIND_KV, 1);
  EXPECT_EQ(BRICKS_KIND_ATTENTION, 2);
  EXPECT_EQ(BRICKS_KIND_PRUNING, 3);
  EXPECT_EQ(BRICKS_KIND_ROUTER, 4);
  EXPECT_EQ(BRICKS_KIND_MERGER, 5);
  EXPECT_EQ(BRICKS_KIND_ADAPTER, 6);
  EXPECT_EQ(BRICKS_KIND_COUNT_, 7);
  EXPECT_EQ(BRICKS_LOG_TRACE, 0);
  EXPECT_EQ(BRICKS_LOG_ERROR, 4);
  EXPECT_EQ(BRICKS_REQ_WAITING, 0);
  EXPECT_EQ(BRICKS_REQ_RUNNING, 1);
  EXPECT_EQ(BRICKS_REQ_SWAPPED, 2);
  EXPECT_EQ(BRICKS_PREEMPT_RECOMPUTE, 0);
  EXPECT_EQ(BRICKS_PREEMPT_SWAP, 1);
  EXPECT_EQ(BRICKS_TIER_DEVICE, 0);
  EXPECT_EQ(BRICKS_TIER_HOST, 1);
  EXPECT_EQ(BRICKS_TIER_DISK, 2);
  EXPECT_EQ(BRICKS_DTYPE_F32, 0);
  EXPECT_EQ(BRICKS_DTYPE_F16, 1);
  EXPECT_EQ(BRICKS_DTYPE_BF16, 2);
  EXPECT_EQ(BRICKS_DTYPE_Q8_0, 3);
  EXPECT_EQ(BRICKS_PROJ_Q, 0);
  EXPECT_EQ(BRICKS_PROJ_O, 3);
  EXPECT_EQ(BRICKS_PROJ_DOWN, 6);
  EXPECT_EQ(BRICKS_PROJ_COUNT_, 7);
}

TEST(AbiLayout, VersionAndEntrySymbol) {
  EXPECT_EQ(BRICKS_ABI_MAJOR, 1);
  EXPECT_EQ(BRICKS_ABI_MINOR, 3);
  EXPECT_STREQ(BRICKS_ENTRY_SYMBOL, "bricks_plugin_entry");
}

}  // namespace
