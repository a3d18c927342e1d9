// The scheduler's handle on the kv brick it is wired to: the kv vtable as C++ calls that
// throw on errors.
//
// An error the kv brick returns is owned by the host and only the host can read or free it,
// so it travels unchanged inside KvError up to the scheduler's C entry point, which returns
// it to the host as the step's error.
#pragma once

#include <cstdint>
#include <exception>

#include "block_count.h"
#include "bricks/abi.h"

namespace bricks::sched {

class KvError : public std::exception {
 public:
  explicit KvError(bricks_error* error) : error_(error) {}
  const char* what() const noexcept override { return "error from the wired kv brick"; }
  // Hands the kv brick's error over to the caller (once).
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
  // Binds to `ref`; throws bricks::Error, naming `scheduler` (the brick's name, as in
  // "fcfs"), when nothing of kind kv is wired or its vtable is too old to carry the verbs.
  void bind(const bricks_brick_ref& ref, const char* scheduler);
  bool bound() const { return vt_ != nullptr; }
  // True when the kv brick has swap_out, swap_in and take_copies.
  bool has_swap() const;

  // Read once at bind: a kv brick's block size comes from its params.
  int32_t block_size() const { return block_size_; }
  bricks_kv_stats stats() const;
  int32_t lookup_prefix(const bricks_request_view& r) const {
    return vt_->lookup_prefix(kv_, &r, 0);
  }
  // False when the pool lacks blocks (nothing changed).
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
  void release(uint64_t id) { vt_->release(kv_, id); }
  bool swap_out(uint64_t id);
  bool swap_in(uint64_t id);

 private:
  static void check(bricks_error* e) {
    if (e != nullptr) throw KvError(e);
  }

  const bricks_kv_vtable* vt_ = nullptr;
  void* kv_ = nullptr;
  int32_t block_size_ = 1;  // as the kv brick reports it
  BlockCount count_;        // over max(block_size_, 1)
};

}  // namespace bricks::sched
