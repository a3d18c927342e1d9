// Thin typed wrappers over the vtables of the bricks the engine drives. Each call checks
// the returned bricks_error* and throws host::BrickError naming the brick and the verb.
#pragma once

#include <string>

#include "bricks/abi.h"
#include "bricks/model/model.h"
#include "host/registry.h"

namespace bricks::engine {

class SchedulerCalls {
 public:
  explicit SchedulerCalls(const host::BrickInstance& b);
  void schedule(const bricks_sched_input& in, bricks_step_plan& plan) const;
  void on_step_done(const bricks_step_result& r) const;

 private:
  const bricks_scheduler_vtable* vt_;
  void* inst_;
  std::string name_;
};

class KvCalls {
 public:
  explicit KvCalls(const host::BrickInstance& b);
  int32_t block_size() const { return vt_->block_size(inst_); }
  void configure(const bricks_kv_geometry& g) const;
  void commit(const bricks_request_view& r, int32_t group) const { vt_->commit(inst_, &r, group); }
  void release(uint64_t id) const { vt_->release(inst_, id); }
  void build_page_table(int32_t group, const bricks_kv_seq* seqs, int32_t n,
                        bricks_page_table& table, int32_t* slots) const;
  bricks_kv_stats stats() const;
  // Copies queued by swaps since the last call (none when the brick cannot swap).
  int32_t take_copies(const bricks_block_copy** out) const;

 private:
  const bricks_kv_vtable* vt_;
  void* inst_;
  std::string name_;
};

// The attention batch of a Llama model's step: its heads, causal, 1/sqrt(head_dim).
bricks_attention_batch llama_attention_batch(const model::LlamaConfig& c, const int32_t* qo_indptr,
                                             const bricks_page_table& table, bricks_dtype kv);

class AttentionCalls {
 public:
  explicit AttentionCalls(const host::BrickInstance& b);
  void plan(const bricks_attention_batch& batch) const;
  void run(const bricks_attention_io& io) const;

 private:
  const bricks_attention_vtable* vt_;
  void* inst_;
  std::string name_;
};

}  // namespace bricks::engine
