#include "host/kinds.h"

#include <cstring>
#include <iterator>

namespace bricks::host {
namespace {

// The tables keep one slot, and one kind, per line.
// clang-format off
#define BRICKS_SLOT(vtable, member) KindSlot{#member, offsetof(vtable, member), true}
#define BRICKS_OPTIONAL_SLOT(vtable, member) KindSlot{#member, offsetof(vtable, member), false}
#define BRICKS_HEADER_SLOTS(vtable) BRICKS_SLOT(vtable, create), BRICKS_SLOT(vtable, destroy)

constexpr KindSlot kSchedulerSlots[] = {
    BRICKS_HEADER_SLOTS(bricks_scheduler_vtable),
    BRICKS_SLOT(bricks_scheduler_vtable, schedule),
    BRICKS_OPTIONAL_SLOT(bricks_scheduler_vtable, on_step_done),
};
constexpr KindSlot kKvSlots[] = {
    BRICKS_HEADER_SLOTS(bricks_kv_vtable),
    BRICKS_SLOT(bricks_kv_vtable, block_size),
    BRICKS_SLOT(bricks_kv_vtable, configure),
    BRICKS_SLOT(bricks_kv_vtable, lookup_prefix),
    BRICKS_SLOT(bricks_kv_vtable, allocate),
    BRICKS_SLOT(bricks_kv_vtable, commit),
    BRICKS_SLOT(bricks_kv_vtable, release),
    BRICKS_SLOT(bricks_kv_vtable, build_page_table),
    BRICKS_SLOT(bricks_kv_vtable, stats),
    BRICKS_OPTIONAL_SLOT(bricks_kv_vtable, swap_out),
    BRICKS_OPTIONAL_SLOT(bricks_kv_vtable, swap_in),
    BRICKS_OPTIONAL_SLOT(bricks_kv_vtable, take_copies),
};
constexpr KindSlot kAttentionSlots[] = {
    BRICKS_HEADER_SLOTS(bricks_attention_vtable),
    BRICKS_SLOT(bricks_attention_vtable, plan),
    BRICKS_SLOT(bricks_attention_vtable, run),
};
constexpr KindSlot kPruningSlots[] = {
    BRICKS_HEADER_SLOTS(bricks_pruning_vtable),
    BRICKS_SLOT(bricks_pruning_vtable, prunes_after),
    BRICKS_SLOT(bricks_pruning_vtable, select),
};
constexpr KindSlot kRouterSlots[] = {
    BRICKS_HEADER_SLOTS(bricks_router_vtable),
    BRICKS_SLOT(bricks_router_vtable, route),
};
constexpr KindSlot kMergerSlots[] = {
    BRICKS_HEADER_SLOTS(bricks_merger_vtable),
    BRICKS_SLOT(bricks_merger_vtable, merge),
};
constexpr KindSlot kAdapterSlots[] = {
    BRICKS_HEADER_SLOTS(bricks_adapter_vtable),
    BRICKS_SLOT(bricks_adapter_vtable, configure),
    BRICKS_SLOT(bricks_adapter_vtable, load),
    BRICKS_SLOT(bricks_adapter_vtable, info),
    BRICKS_SLOT(bricks_adapter_vtable, apply),
    BRICKS_OPTIONAL_SLOT(bricks_adapter_vtable, unload),
};

#undef BRICKS_HEADER_SLOTS
#undef BRICKS_OPTIONAL_SLOT
#undef BRICKS_SLOT

// No vtable has grown since its kind was introduced, so each minimum is the full struct.
// When a minor appends a slot to a vtable, its minimum stays the offset of that new slot.
#define BRICKS_KIND_ROW(kind, name, vtable, since, slots) \
  KindInfo{kind, name, #vtable, sizeof(vtable), since, slots}

constexpr KindInfo kKinds[] = {
    BRICKS_KIND_ROW(BRICKS_KIND_SCHEDULER, "scheduler", bricks_scheduler_vtable, 0,
                    kSchedulerSlots),
    BRICKS_KIND_ROW(BRICKS_KIND_KV, "kv", bricks_kv_vtable, 0, kKvSlots),
    BRICKS_KIND_ROW(BRICKS_KIND_ATTENTION, "attention", bricks_attention_vtable, 0,
                    kAttentionSlots),
    BRICKS_KIND_ROW(BRICKS_KIND_PRUNING, "pruning", bricks_pruning_vtable, 0, kPruningSlots),
    BRICKS_KIND_ROW(BRICKS_KIND_ROUTER, "router", bricks_router_vtable, 0, kRouterSlots),
    BRICKS_KIND_ROW(BRICKS_KIND_MERGER, "merger", bricks_merger_vtable, 0, kMergerSlots),
    BRICKS_KIND_ROW(BRICKS_KIND_ADAPTER, "adapter", bricks_adapter_vtable, 1, kAdapterSlots),
};

#undef BRICKS_KIND_ROW
// clang-format on

constexpr bool rows_in_enum_order() {
  for (size_t k = 0; k < std::size(kKinds); ++k) {
    if (static_cast<size_t>(kKinds[k].kind) != k) return false;
  }
  return true;
}
static_assert(std::size(kKinds) == BRICKS_KIND_COUNT_, "one row per bricks_kind");
static_assert(rows_in_enum_order(), "rows in bricks_kind order, so find_kind can index");

}  // namespace

std::span<const KindInfo> all_kinds() { return kKinds; }

const KindInfo* find_kind(bricks_kind kind) {
  const int k = static_cast<int>(kind);
  return k >= 0 && k < BRICKS_KIND_COUNT_ ? &kKinds[k] : nullptr;
}

const KindInfo* find_kind(std::string_view name) {
  for (const KindInfo& k : kKinds) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

std::vector<std::string> kind_names() {
  std::vector<std::string> out;
  for (const KindInfo& k : kKinds) out.emplace_back(k.name);
  return out;
}

std::string check_vtable(const KindInfo& kind, const void* vtable) {
  uint32_t size = 0;
  std::memcpy(&size, vtable, sizeof size);  // struct_size opens every vtable
  const std::string what = std::string(kind.name) + " vtable";
  if (size < kind.min_vtable_size) {
    // Name the first slot the short struct cannot hold.
    std::string missing;
    for (const KindSlot& slot : kind.slots) {
      if (slot.offset + sizeof(void (*)()) > size) {
        missing = slot.name;
        break;
      }
    }
    return what + " struct_size " + std::to_string(size) + " is smaller than " + kind.vtable_type +
           " of ABI " + std::to_string(BRICKS_ABI_MAJOR) + "." + std::to_string(kind.since_minor) +
           " (" + std::to_string(kind.min_vtable_size) + " bytes), so it has no slot " + missing;
  }
  const auto* bytes = static_cast<const unsigned char*>(vtable);
  for (const KindSlot& slot : kind.slots) {
    void (*fn)() = nullptr;
    std::memcpy(&fn, bytes + slot.offset, sizeof fn);
    if (slot.required && fn == nullptr) {
      return what + " slot " + slot.name + " is NULL (a required slot)";
    }
  }
  return "";
}

}  // namespace bricks::host
