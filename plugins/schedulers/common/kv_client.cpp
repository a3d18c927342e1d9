#include "kv_client.h"

#include <cstddef>
#include <string>

#include "bricks/error.hpp"

namespace bricks::sched {

namespace {
// Bytes a vtable must have to hold the member at `offset` of type M.
template <class M>
constexpr size_t through(size_t offset) {
  return offset + sizeof(M);
}
}  // namespace

void KvClient::bind(const bricks_brick_ref& ref, const char* scheduler) {
  const std::string who = std::string("scheduler ") + scheduler;
  const auto* vt = static_cast<const bricks_kv_vtable*>(ref.vtable);
  if (ref.kind != BRICKS_KIND_KV || vt == nullptr) {
    throw Error::invalid(who +
                         ": no kv brick is wired to it; add a kv brick (for example kv/paged) "
                         "to the manifest's bricks");
  }
  constexpr size_t need = through<decltype(vt->stats)>(offsetof(bricks_kv_vtable, stats));
  if (vt->struct_size < need || vt->allocate == nullptr || vt->lookup_prefix == nullptr ||
      vt->release == nullptr || vt->stats == nullptr || vt->block_size == nullptr) {
    throw Error::invalid(who +
                         ": the wired kv brick's vtable lacks required verbs "
                         "(allocate, lookup_prefix, release, stats); rebuild it against this SDK");
  }
  vt_ = vt;
  kv_ = ref.instance;
  block_size_ = vt->block_size(kv_);
  count_ = BlockCount(block_size_ > 0 ? block_size_ : 1);
}

bool KvClient::has_swap() const {
  constexpr size_t need =
      through<decltype(vt_->take_copies)>(offsetof(bricks_kv_vtable, take_copies));
  return vt_ != nullptr && vt_->struct_size >= need && vt_->swap_out != nullptr &&
         vt_->swap_in != nullptr && vt_->take_copies != nullptr;
}

bricks_kv_stats KvClient::stats() const {
  bricks_kv_stats s{};
  s.struct_size = sizeof(s);
  vt_->stats(kv_, &s);
  return s;
}

bool KvClient::swap_out(uint64_t id) {
  int32_t ok = 0;
  check(vt_->swap_out(kv_, id, &ok));
  return ok != 0;
}

bool KvClient::swap_in(uint64_t id) {
  int32_t ok = 0;
  check(vt_->swap_in(kv_, id, &ok));
  return ok != 0;
}

}  // namespace bricks::sched
