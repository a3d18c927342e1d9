// bricks/kv_client.hpp: a scheduler's handle on the kv brick it is wired to.
//
// KvClient turns the kv vtable into C++ calls that throw on errors. An error the kv brick
// returns is owned by the host and only the host can read or free it, so it travels
// unchanged inside KvError up to the scheduler's C entry point, which returns it to the
// host as the step's error: describe_scheduler (bricks/scheduler_entry.hpp) writes that
// entry point. With plain bricks::describe the host would see "error from the wired kv
// brick" instead of the kv brick's own message.
//
//   sched::KvClient kv;                                  // a member of the scheduler
//   if (!kv.bound()) kv.bind(host().wired(BRICKS_KIND_KV), "mine");   // in schedule()
//   if (kv.allocate(r, cached, n)) plan_item(...); else wait_or_preempt(...);
//
// Needs a kv brick with capability BRICKS_CAP_KV_PAGED (bricks/capabilities.h): it counts
// KV in blocks. A value type, cheap to copy; not thread-safe (the host calls a scheduler
// from one thread at a time, which is also the only thread that may call its kv brick).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "bricks/abi.h"
#include "bricks/block_count.hpp"
#include "bricks/capabilities.h"
#include "bricks/error.hpp"

namespace bricks::sched {

// An error returned by the wired kv brick, carried to the scheduler's C entry point.
class KvError : public std::exception {
 public:
  explicit KvError(bricks_error* error) : error_(error) {}
  const char* what() const noexcept override { return "error from the wired kv brick"; }
  // Hands the kv brick's error over to the caller (once); nullptr after that.
  bricks_error* take() noexcept {
    bricks_error* e = error_;
    error_ = nullptr;
    return e;
  }

 private:
  bricks_error* error_;
};

class KvClient {
 public:
  // Binds to `ref` (from host().wired(BRICKS_KIND_KV)); throws bricks::Error, naming
  // `scheduler` (the brick's name, as in "fcfs"), when nothing of kind kv is wired or its
  // vtable is too old to carry the verbs. Reads the block size once.
  void bind(const bricks_brick_ref& ref, const char* scheduler);
  bool bound() const { return vt_ != nullptr; }
  // True when the kv brick has swap_out, swap_in and take_copies (capability kv.swap).
  bool has_swap() const;

  // Read once at bind: a kv brick's block size comes from its params.
  int32_t block_size() const { return block_size_; }
  // Blocks needed to hold `tokens` tokens.
  int64_t blocks_for(int64_t tokens) const { return count_(tokens); }
  bricks_kv_stats stats() const;
  // Leading tokens of `r` already in the kv brick's prefix cache (group 0); changes nothing.
  int32_t lookup_prefix(const bricks_request_view& r) const {
    return vt_->lookup_prefix(kv_, &r, 0);
  }
  // Room for r.num_computed + num_cached + num_new tokens in group 0, taking the num_cached
  // tokens lookup_prefix found first. False when the pool lacks blocks (nothing changed);
  // throws KvError when the kv brick returns an error.
  bool allocate(const bricks_request_view& r, int32_t num_cached, int32_t num_new) {
    int32_t ok = 0;
    check(vt_->allocate(kv_, &r, 0, num_cached, num_new, &ok));
    return ok != 0;
  }
  // allocate(r, 0, num_new) for a request that holds the KV of its num_computed tokens
  // (state RUNNING). When the blocks that hold them already have room for num_new more, the
  // kv brick is not called: its allocate would change nothing. Most decode steps are so.
  bool extend(const bricks_request_view& r, int32_t num_new) {
    if (r.state == BRICKS_REQ_RUNNING && r.num_computed > 0 && num_new >= 0 && block_size_ > 0 &&
        count_(static_cast<int64_t>(r.num_computed) + num_new) <= count_(r.num_computed)) {
      return true;
    }
    return allocate(r, 0, num_new);
  }
  // Frees every block of the request (recompute preemption, failure).
  void release(uint64_t id) { vt_->release(kv_, id); }
  // Moves a running request to the host tier; false when the host tier is full. Needs
  // has_swap(); throws KvError when the kv brick returns an error.
  bool swap_out(uint64_t id) {
    int32_t ok = 0;
    check(vt_->swap_out(kv_, id, &ok));
    return ok != 0;
  }
  // Takes a running request off the device and says how: swapped out when `swap` (which
  // needs has_swap()) and the host tier has room, else released to recompute later.
  bricks_preempt_mode preempt(uint64_t id, bool swap) {
    if (swap && swap_out(id)) return BRICKS_PREEMPT_SWAP;
    release(id);
    return BRICKS_PREEMPT_RECOMPUTE;
  }
  // Brings a swapped request back to the device tier; false when the device is full.
  bool swap_in(uint64_t id) {
    int32_t ok = 0;
    check(vt_->swap_in(kv_, id, &ok));
    return ok != 0;
  }

 private:
  static void check(bricks_error* e) {
    if (e != nullptr) throw KvError(e);
  }
  // Bytes a vtable must have to hold the member at `offset` of type M.
  template <class M>
  static constexpr size_t through(size_t offset) {
    return offset + sizeof(M);
  }

  const bricks_kv_vtable* vt_ = nullptr;
  void* kv_ = nullptr;
  int32_t block_size_ = 1;  // as the kv brick reports it
  BlockCount count_;        // over max(block_size_, 1)
};

inline void KvClient::bind(const bricks_brick_ref& ref, const char* scheduler) {
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

inline bool KvClient::has_swap() const {
  constexpr size_t need =
      through<decltype(vt_->take_copies)>(offsetof(bricks_kv_vtable, take_copies));
  return vt_ != nullptr && vt_->struct_size >= need && vt_->swap_out != nullptr &&
         vt_->swap_in != nullptr && vt_->take_copies != nullptr;
}

inline bricks_kv_stats KvClient::stats() const {
  bricks_kv_stats s{};
  s.struct_size = sizeof(s);
  vt_->stats(kv_, &s);
  return s;
}

// The wired kv brick's device pool as a scheduler reads it at the start of a step.
struct KvPoolSize {
  int32_t block_size = 1;
  int64_t blocks = 0;  // device blocks in all
};

// Reads the pool of `kv`; throws bricks::Error naming "scheduler <brick>" when the kv brick
// reports no blocks (it is not configured yet).
inline KvPoolSize read_kv_pool(const KvClient& kv, const char* brick) {
  const KvPoolSize p{kv.block_size(), kv.stats().num_device_blocks};
  if (p.block_size < 1 || p.blocks < 1) {
    throw Error::invalid(std::string("scheduler ") + brick +
                         ": the wired kv brick reports no blocks; configure it before the "
                         "first schedule");
  }
  return p;
}

// The failure reason of request `r` when `tokens` of it need more blocks (counted by
// `count`) than the whole pool of `pool_blocks`.
inline std::string too_big_reason(const bricks_request_view& r, int64_t tokens,
                                  const BlockCount& count, int64_t pool_blocks) {
  return "request " + std::to_string(r.id) + " needs " + std::to_string(count(tokens)) +
         " KV blocks for " + std::to_string(tokens) + " tokens, more than the whole pool of " +
         std::to_string(pool_blocks) + " blocks of " + std::to_string(count.block_size()) +
         " tokens";
}

// Why the waiting request `r` can never be admitted, or "" when it may be: it has no tokens,
// or its sequence needs more blocks than the whole pool. A rule fails such a request with
// this reason before it weighs the request's turn.
inline std::string admit_refusal(const bricks_request_view& r, const BlockCount& count,
                                 int64_t pool_blocks) {
  if (r.num_tokens < 1) return "request " + std::to_string(r.id) + " has no tokens to compute";
  if (count(r.num_tokens) > pool_blocks) return too_big_reason(r, r.num_tokens, count, pool_blocks);
  return "";
}

// Why the swapped request `r` can never be swapped in, or "" when it may be: the wired kv
// brick cannot swap in, or its sequence needs more blocks than the whole pool. A rule fails
// such a request with this reason before it weighs the request's turn.
inline std::string swap_in_refusal(const KvClient& kv, const bricks_request_view& r,
                                   const BlockCount& count, int64_t pool_blocks) {
  if (!kv.has_swap()) {
    return "request " + std::to_string(r.id) +
           " is swapped out but the wired kv brick cannot swap in";
  }
  if (count(r.num_tokens) > pool_blocks) return too_big_reason(r, r.num_tokens, count, pool_blocks);
  return "";
}

}  // namespace bricks::sched
