#include "engine/brick_calls.h"

#include <cmath>

namespace bricks::engine {

namespace {
std::string brick_label(const host::BrickInstance& b) {
  return std::string(host::kind_name(b.kind())) + "/" + b.info().name;
}
}  // namespace

SchedulerCalls::SchedulerCalls(const host::BrickInstance& b)
    : vt_(b.vtable<bricks_scheduler_vtable>()), inst_(b.instance()), name_(brick_label(b)) {}

void SchedulerCalls::schedule(const bricks_sched_input& in, bricks_step_plan& plan) const {
  plan = bricks_step_plan{};
  host::check(vt_->schedule(inst_, &in, &plan), name_ + " schedule");
}

void SchedulerCalls::on_step_done(const bricks_step_result& r) const {
  if (vt_->on_step_done != nullptr) vt_->on_step_done(inst_, &r);
}

KvCalls::KvCalls(const host::BrickInstance& b)
    : vt_(b.vtable<bricks_kv_vtable>()), inst_(b.instance()), name_(brick_label(b)) {}

void KvCalls::configure(const bricks_kv_geometry& g) const {
  host::check(vt_->configure(inst_, &g), name_ + " configure");
}

void KvCalls::build_page_table(int32_t group, const bricks_kv_seq* seqs, int32_t n,
                               bricks_page_table& table, int32_t* slots) const {
  table = bricks_page_table{};
  host::check(vt_->build_page_table(inst_, group, seqs, n, &table, slots),
              name_ + " build_page_table");
}

bricks_kv_stats KvCalls::stats() const {
  bricks_kv_stats s{};
  s.struct_size = sizeof(s);
  vt_->stats(inst_, &s);
  return s;
}

int32_t KvCalls::take_copies(const bricks_block_copy** out) const {
  *out = nullptr;
  return vt_->take_copies != nullptr ? vt_->take_copies(inst_, out) : 0;
}

bricks_attention_batch llama_attention_batch(const model::LlamaConfig& c, const int32_t* qo_indptr,
                                             const bricks_page_table& table, bricks_dtype kv) {
  bricks_attention_batch ab{};
  ab.struct_size = sizeof(ab);
  ab.qo_indptr = qo_indptr;
  ab.kv = table;
  ab.num_qo_heads = c.n_heads;
  ab.num_kv_heads = c.n_kv_heads;
  ab.head_dim = c.head_dim;
  ab.kv_dtype = kv;
  ab.sm_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  ab.causal = 1;
  return ab;
}

AttentionCalls::AttentionCalls(const host::BrickInstance& b)
    : vt_(b.vtable<bricks_attention_vtable>()), inst_(b.instance()), name_(brick_label(b)) {}

void AttentionCalls::plan(const bricks_attention_batch& batch) const {
  host::check(vt_->plan(inst_, &batch), name_ + " plan");
}

void AttentionCalls::run(const bricks_attention_io& io) const {
  host::check(vt_->run(inst_, &io), name_ + " run");
}

}  // namespace bricks::engine
