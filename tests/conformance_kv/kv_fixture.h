// Shared plumbing for the kv conformance suite: a kv brick under test, configured, with
// helpers that call its vtable and turn results into plain values. The suite runs on every
// brick in kv_cases() (conformance_case.h says who fills it).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "brick_harness.h"
#include "conformance_case.h"

namespace bricks::testing {

// The kv bricks the suite runs on.
inline std::vector<BrickCase>& kv_cases() {
  static std::vector<BrickCase> cases;
  return cases;
}
inline const bool kKvCasesRegistered = register_brick_cases(BRICKS_KIND_KV, kv_cases());

// One request as the tests hold it: its tokens and how many are computed.
struct KvReq {
  uint64_t id = 0;
  std::vector<int32_t> tokens;
  int32_t num_computed = 0;

  bricks_request_view view() const {
    bricks_request_view v{};
    v.id = id;
    v.state = num_computed > 0 ? BRICKS_REQ_RUNNING : BRICKS_REQ_WAITING;
    v.prompt_len = static_cast<int32_t>(tokens.size());
    v.num_tokens = static_cast<int32_t>(tokens.size());
    v.num_computed = num_computed;
    v.max_new_tokens = 16;
    v.tokens = tokens.data();
    return v;
  }
};

// Tokens start at `base` and count up, so two ranges with different bases never match.
inline std::vector<int32_t> token_range(int32_t base, int32_t count) {
  std::vector<int32_t> t(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) t[static_cast<size_t>(i)] = base + i;
  return t;
}

class KvBrickTest : public ::testing::TestWithParam<BrickCase> {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(make(64, 32)); }

  // (Re)creates the brick and configures `device` + `host` blocks, one KV group.
  void make(int32_t device, int32_t host, int32_t groups = 1) {
    kv_.reset();
    kv_ = create_brick(BRICKS_KIND_KV, GetParam().name, GetParam().params);
    ASSERT_NE(kv_, nullptr);
    vt_ = kv_->vt<bricks_kv_vtable>();
    bs_ = vt_->block_size(kv_->instance());
    ASSERT_GE(bs_, 1);
    bricks_kv_geometry g{sizeof(bricks_kv_geometry), device, host, 0, groups, 4096};
    ASSERT_EQ(take_error(vt_->configure(kv_->instance(), &g)), "");
  }

  bool provides(const std::string& cap) const {
    const bricks_brick_desc& d = kv_->desc();
    for (int32_t i = 0; i < d.num_provides; ++i) {
      if (cap == d.provides[i]) return true;
    }
    return false;
  }

  int32_t lookup(const KvReq& r) {
    const bricks_request_view v = r.view();
    return vt_->lookup_prefix(kv_->instance(), &v, 0);
  }
  // Allocates and fails the test on an error; returns out_ok.
  bool alloc(const KvReq& r, int32_t num_cached, int32_t num_new, int32_t group = 0) {
    const bricks_request_view v = r.view();
    int32_t ok = -1;
    EXPECT_EQ(take_error(vt_->allocate(kv_->instance(), &v, group, num_cached, num_new, &ok)), "");
    EXPECT_TRUE(ok == 0 || ok == 1);
    return ok == 1;
  }
  // Allocates the whole sequence and marks it computed and committed.
  bool fill(KvReq& r, int32_t num_cached = 0) {
    if (!alloc(r, num_cached, static_cast<int32_t>(r.tokens.size()) - num_cached)) return false;
    r.num_computed = static_cast<int32_t>(r.tokens.size());
    commit(r);
    return true;
  }
  void commit(const KvReq& r) {
    const bricks_request_view v = r.view();
    vt_->commit(kv_->instance(), &v, 0);
  }
  void release(uint64_t id) { vt_->release(kv_->instance(), id); }
  bricks_kv_stats stats() const {
    bricks_kv_stats s{};
    s.struct_size = sizeof(s);
    vt_->stats(kv_->instance(), &s);
    return s;
  }
  // Pages of one request holding kv_len tokens; empty with `error` set when the brick refuses.
  std::vector<int32_t> pages(uint64_t id, int32_t kv_len, std::string* error = nullptr,
                             int32_t group = 0) {
    bricks_kv_seq seq{id, kv_len, 0};
    bricks_page_table t{};
    const std::string err =
        take_error(vt_->build_page_table(kv_->instance(), group, &seq, 1, &t, nullptr));
    if (error != nullptr) *error = err;
    if (!err.empty()) return {};
    return std::vector<int32_t>(t.indices + t.indptr[0], t.indices + t.indptr[1]);
  }
  std::vector<bricks_block_copy> copies() {
    const bricks_block_copy* c = nullptr;
    const int32_t n = vt_->take_copies(kv_->instance(), &c);
    return std::vector<bricks_block_copy>(c, c + n);
  }
  int32_t blocks_for(int32_t tokens) const { return (tokens + bs_ - 1) / bs_; }

  std::unique_ptr<HarnessBrick> kv_;
  const bricks_kv_vtable* vt_ = nullptr;
  int32_t bs_ = 0;
};

}  // namespace bricks::testing
