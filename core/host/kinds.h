// The brick kinds this host knows, in one table: each kind's name, enum value, vtable type,
// the smallest vtable it accepts and the slots that must not be NULL. The catalogue, the
// loader and the CLI read it, so adding a kind to the host is one row in kinds.cpp. The
// whole of a new kind: its enum value in abi.h (a minor bump, with its structs pinned in
// tests/abi), its SDK header kind_*.h and C++ adapter in bricks.hpp, this row, the engine
// code that calls it, and its conformance suite under tests/ (bricks_conformance_suite(),
// which bricks-conform then runs with no change of its own).
//
// Thread safety: the table is immutable static data; every function here may be called
// from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bricks/abi.h"

namespace bricks::host {

// One function-pointer slot of a kind's vtable.
struct KindSlot {
  const char* name;  // the member's name in the kind header, e.g. "schedule"
  size_t offset;     // offsetof(<vtable type>, <member>)
  // The host calls it without checking for NULL. Slots the kind header marks "(optional)"
  // are not required: the host checks them before each call.
  bool required;
};

struct KindInfo {
  bricks_kind kind;
  const char* name;         // as manifests and `bricks list` spell it, e.g. "scheduler"
  const char* vtable_type;  // the C type in the kind header, e.g. "bricks_scheduler_vtable"
  // The smallest struct_size a brick of this kind may declare: sizeof the vtable at the ABI
  // minor that introduced the kind. Slots a later minor appends are optional by that rule
  // (abi.h: minors only append), so a vtable between this and sizeof(vtable type) is valid
  // and the host reads the appended slots only below the brick's struct_size.
  uint32_t min_vtable_size;
  uint32_t since_minor;  // the ABI minor that introduced the kind
  // Every slot, in declaration order from create and destroy on.
  std::span<const KindSlot> slots;
};

// Every kind, in enum order (all_kinds()[k].kind == k).
std::span<const KindInfo> all_kinds();

// The row of `kind`; nullptr for a value outside the enum (e.g. from a newer plugin).
const KindInfo* find_kind(bricks_kind kind);
// The row whose name is `name`; nullptr if none.
const KindInfo* find_kind(std::string_view name);

// Every kind's name, in enum order: the choices of a --kind option.
std::vector<std::string> kind_names();

// Checks that `vtable`, declared by a brick of `kind`, is long enough and has every
// required slot. Returns "" when it is usable, otherwise one clause naming the kind and
// the slot at fault, e.g. "kv vtable slot build_page_table is NULL (a required slot)".
// `vtable` must not be NULL and must hold at least min(struct_size, min_vtable_size) bytes.
std::string check_vtable(const KindInfo& kind, const void* vtable);

}  // namespace bricks::host
