// The kinds table (host/kinds.h) against the SDK headers, and check_vtable on vtables that
// are short, have a NULL required slot, or come from a newer minor with more slots.
#include "host/kinds.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "host/catalogue.h"
#include "host/host_error.h"
#include "host/loader.h"

namespace bricks::host {
namespace {

void any_function() {}

// A vtable image with every slot set and struct_size = `size`: room for 64 slots, so a
// vtable of a newer minor fits too.
struct FakeVtable {
  alignas(void*) unsigned char bytes[8 + 64 * sizeof(void*)] = {};
  explicit FakeVtable(uint32_t size) {
    std::memcpy(bytes, &size, sizeof size);
    void (*fn)() = &any_function;
    for (size_t at = sizeof(void*); at + sizeof fn <= sizeof bytes; at += sizeof fn) {
      std::memcpy(bytes + at, &fn, sizeof fn);
    }
  }
  void clear(const KindSlot& slot) { std::memset(bytes + slot.offset, 0, sizeof(void*)); }
};

TEST(KindsTable, OneRowPerKindInEnumOrderWithItsName) {
  ASSERT_EQ(all_kinds().size(), static_cast<size_t>(BRICKS_KIND_COUNT_));
  for (int k = 0; k < BRICKS_KIND_COUNT_; ++k) {
    const KindInfo& row = all_kinds()[k];
    EXPECT_EQ(row.kind, k);
    EXPECT_EQ(find_kind(static_cast<bricks_kind>(k)), &row);
    EXPECT_EQ(find_kind(row.name), &row);
    EXPECT_STREQ(kind_name(row.kind), row.name);
  }
  EXPECT_EQ(find_kind(static_cast<bricks_kind>(BRICKS_KIND_COUNT_)), nullptr);
  EXPECT_EQ(find_kind("schedulers"), nullptr);
  EXPECT_EQ(kind_names(), (std::vector<std::string>{"scheduler", "kv", "attention", "pruning",
                                                    "router", "merger", "adapter"}));
}

TEST(KindsTable, SlotsListEveryMemberUpToTheMinimumSize) {
  for (const KindInfo& row : all_kinds()) {
    SCOPED_TRACE(row.name);
    ASSERT_GE(row.slots.size(), 3u);
    EXPECT_STREQ(row.slots[0].name, "create");
    EXPECT_STREQ(row.slots[1].name, "destroy");
    EXPECT_TRUE(row.slots[0].required && row.slots[1].required);
    size_t expected = sizeof(void*);  // struct_size, padded to a pointer
    for (const KindSlot& slot : row.slots) {
      EXPECT_EQ(slot.offset, expected) << slot.name << " is not the next member";
      expected += sizeof(void*);
    }
    EXPECT_EQ(expected, row.min_vtable_size) << "the slots end before the vtable does";
    EXPECT_LE(row.since_minor, static_cast<uint32_t>(BRICKS_ABI_MINOR));
  }
}

TEST(KindsTable, VtableTypesAndMinimumSizesMatchTheHeaders) {
  EXPECT_STREQ(find_kind(BRICKS_KIND_KV)->vtable_type, "bricks_kv_vtable");
  EXPECT_EQ(find_kind(BRICKS_KIND_SCHEDULER)->min_vtable_size, sizeof(bricks_scheduler_vtable));
  EXPECT_EQ(find_kind(BRICKS_KIND_KV)->min_vtable_size, sizeof(bricks_kv_vtable));
  EXPECT_EQ(find_kind(BRICKS_KIND_ADAPTER)->min_vtable_size, sizeof(bricks_adapter_vtable));
  EXPECT_EQ(find_kind(BRICKS_KIND_ADAPTER)->since_minor, 1u);
}

TEST(CheckVtable, FullAndNewerLongerVtablesPass) {
  for (const KindInfo& row : all_kinds()) {
    EXPECT_EQ(check_vtable(row, FakeVtable(row.min_vtable_size).bytes), "") << row.name;
    EXPECT_EQ(check_vtable(row, FakeVtable(row.min_vtable_size + 16).bytes), "") << row.name;
  }
}

TEST(CheckVtable, OptionalSlotsMayBeNull) {
  const KindInfo& kv = *find_kind(BRICKS_KIND_KV);
  FakeVtable vt(kv.min_vtable_size);
  for (const KindSlot& slot : kv.slots) {
    if (!slot.required) vt.clear(slot);
  }
  EXPECT_EQ(check_vtable(kv, vt.bytes), "");
}

TEST(CheckVtable, EachNullRequiredSlotIsNamed) {
  for (const KindInfo& row : all_kinds()) {
    for (const KindSlot& slot : row.slots) {
      if (!slot.required) continue;
      FakeVtable vt(row.min_vtable_size);
      vt.clear(slot);
      EXPECT_EQ(check_vtable(row, vt.bytes),
                std::string(row.name) + " vtable slot " + slot.name + " is NULL (a required slot)");
    }
  }
}

TEST(CheckVtable, ShortVtableNamesTheFirstSlotItLacks) {
  const KindInfo& adapter = *find_kind(BRICKS_KIND_ADAPTER);
  const uint32_t size = offsetof(bricks_adapter_vtable, info);
  EXPECT_EQ(check_vtable(adapter, FakeVtable(size).bytes),
            "adapter vtable struct_size " + std::to_string(size) +
                " is smaller than bricks_adapter_vtable of ABI 1.1 (" +
                std::to_string(sizeof(bricks_adapter_vtable)) + " bytes), so it has no slot info");
}

// The loader applies the table to every brick of a descriptor, with one line naming the
// file, the brick and its kind.
TEST(CheckPluginDesc, RefusesANullRequiredSlotAndAcceptsALongerVtable) {
  const KindInfo& sched = *find_kind(BRICKS_KIND_SCHEDULER);
  FakeVtable vt(sched.min_vtable_size + 8);  // a newer minor appended one slot
  bricks_brick_desc brick{};
  brick.struct_size = sizeof brick;
  brick.kind = BRICKS_KIND_SCHEDULER;
  brick.name = "later";
  brick.vtable = vt.bytes;
  bricks_plugin_desc plugin{};
  plugin.struct_size = sizeof plugin;
  plugin.abi_major = BRICKS_ABI_MAJOR;
  plugin.abi_minor = BRICKS_ABI_MINOR;
  plugin.name = "p";
  plugin.bricks = &brick;
  plugin.num_bricks = 1;
  EXPECT_NO_THROW(check_plugin_desc(&plugin, "libp.so"));

  vt.clear(sched.slots[2]);
  try {
    check_plugin_desc(&plugin, "libp.so");
    ADD_FAILURE() << "a NULL schedule slot was accepted";
  } catch (const BrickError& e) {
    EXPECT_STREQ(e.what(),
                 "libp.so: brick 'later' (scheduler): scheduler vtable slot schedule is NULL (a "
                 "required slot); rebuild the plugin against this SDK");
  }
}

}  // namespace
}  // namespace bricks::host
