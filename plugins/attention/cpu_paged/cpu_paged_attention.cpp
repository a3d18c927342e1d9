// attention/cpu_paged: paged attention for the CPU device.
//
// plan() turns the page table into work items (work_plan.h); run() executes them with TBB,
// each item an online-softmax pass over its keys by the widest kernel set the CPU has
// (kernels.h), merges split items by log-sum-exp, and, when asked for scores, makes a
// second pass over the keys.
//
// Thread safety: one host thread at a time (abi.h rule); run() uses TBB threads inside.
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"
#include "kernels.h"
#include "work_plan.h"

namespace bricks_cpu_paged {
namespace {

using bricks::Error;

// Keys per task of the score pass.
constexpr int32_t kScoreChunk = 256;

class CpuPagedAttention final : public bricks::Attention {
 public:
  CpuPagedAttention(const bricks::Host& host, const bricks::Params& params)
      : Attention(host),
        kv_chunk_size_(static_cast<int32_t>(params.get_int("kv_chunk_size"))),
        kernels_(select_kernels(params.get_string("simd"))) {
    host.debug(std::string("attention cpu_paged: using ") + kernels_.name + " kernels");
  }

  void plan(const bricks_attention_batch& batch) override {
    planned_ = false;
    plan_ = build_work_plan(batch, kv_chunk_size_, tbb::this_task_arena::max_concurrency());
    batch_ = batch;
    planned_ = true;
  }

  void run(const bricks_attention_io& io) override {
    if (!planned_)
      throw Error::invalid("attention cpu_paged: run called without a successful plan");
    if (io.q == nullptr || io.out == nullptr || io.k_pool == nullptr || io.v_pool == nullptr) {
      throw Error::invalid("attention cpu_paged: q, k_pool, v_pool and out must all be set");
    }
    if ((io.scores == nullptr) != (io.score_rows == nullptr)) {
      throw Error::invalid("attention cpu_paged: set both scores and score_rows, or neither");
    }
    const Geometry g = geometry(io);
    const int64_t scratch_size = scratch_floats(g, plan_.tile_rows, plan_.step_heads);
    lse_.resize(static_cast<size_t>(plan_.total_rows * g.num_qo_heads));
    partial_o_.resize(static_cast<size_t>(plan_.partial_vectors * g.head_dim));
    partial_lse_.resize(static_cast<size_t>(plan_.partial_vectors));

    tbb::parallel_for(tbb::blocked_range<size_t>(0, plan_.items.size(), 1),
                      [&](const tbb::blocked_range<size_t>& range) {
                        float* scratch = local_scratch(scratch_size);
                        for (size_t i = range.begin(); i != range.end(); ++i) {
                          run_item(g, plan_.items[i], io, scratch);
                        }
                      });
    if (!plan_.split.empty()) {
      tbb::parallel_for(tbb::blocked_range<size_t>(0, plan_.split.size(), 1),
                        [&](const tbb::blocked_range<size_t>& range) {
                          for (size_t i = range.begin(); i != range.end(); ++i) {
                            merge_split(g, plan_.split[i], io.out);
                          }
                        });
    }
    if (io.scores != nullptr) score_pass(g, io, scratch_size);
  }

 private:
  Geometry geometry(const bricks_attention_io& io) const {
    const bricks_attention_batch& b = batch_;
    return Geometry{b.num_qo_heads, b.num_kv_heads, b.num_qo_heads / b.num_kv_heads,
                    b.head_dim,     b.kv.page_size, b.kv_dtype == BRICKS_DTYPE_F16,
                    b.causal != 0,  b.sm_scale,     b.kv.indices,
                    io.k_pool,      io.v_pool};
  }

  float* local_scratch(int64_t size) {
    std::vector<float>& s = scratch_.local();
    if (static_cast<int64_t>(s.size()) < size) s.resize(static_cast<size_t>(size));
    return s.data();
  }

  void run_item(const Geometry& g, const WorkItem& item, const bricks_attention_io& io,
                float* scratch) {
    const SeqView& seq = plan_.seqs[static_cast<size_t>(item.seq)];
    ItemOutput out{};
    if (item.partial < 0) {
      const int64_t first =
          int64_t{seq.row0 + item.row_begin} * g.num_qo_heads + int64_t{item.kv_head} * g.group;
      out = ItemOutput{io.out + first * g.head_dim, lse_.data() + first, g.num_qo_heads};
    } else {
      out = ItemOutput{partial_o_.data() + item.partial * g.head_dim,
                       partial_lse_.data() + item.partial, g.group};
    }
    if (item.kv_heads == 1) {
      kernels_.attend(g, seq, item.kv_head, item.row_begin, item.row_end, item.key_begin,
                      item.key_end, io.q, out, Scratch{scratch});
    } else {
      kernels_.attend_heads(g, seq, item.kv_head, item.kv_heads, item.row_begin, item.key_begin,
                            item.key_end, io.q, out, Scratch{scratch});
    }
  }

  // out = sum_c exp(lse_c - lse) o_c with lse = log sum_c exp(lse_c): the softmax over all
  // keys rebuilt from the softmaxes over each chunk.
  void merge_split(const Geometry& g, const SplitTask& task, float* out) {
    const SeqView& seq = plan_.seqs[static_cast<size_t>(task.seq)];
    const int32_t rows = task.row_end - task.row_begin;
    const int32_t per_row = g.group * task.kv_heads;  // query heads of a row
    for (int32_t v = 0; v < rows * per_row; ++v) {
      const int32_t r = v / per_row;
      const int32_t h = task.kv_head * g.group + v % per_row;
      float top = -std::numeric_limits<float>::infinity();
      for (int32_t c = 0; c < task.num_items; ++c) {
        top = std::max(top, partial_lse_[static_cast<size_t>(item_partial(task, c) + v)]);
      }
      const int64_t index = int64_t{seq.row0 + task.row_begin + r} * g.num_qo_heads + h;
      float* o = out + index * g.head_dim;
      std::fill_n(o, g.head_dim, 0.0f);
      float total = 0.0f;
      for (int32_t c = 0; c < task.num_items; ++c) {
        const int64_t p = item_partial(task, c) + v;
        const float lse_c = partial_lse_[static_cast<size_t>(p)];
        if (!(lse_c > -std::numeric_limits<float>::infinity())) continue;
        const float w = std::exp(lse_c - top);
        total += w;
        const float* o_c = partial_o_.data() + p * g.head_dim;
        for (int32_t d = 0; d < g.head_dim; ++d) o[d] += w * o_c[d];
      }
      if (total > 0.0f) {
        for (int32_t d = 0; d < g.head_dim; ++d) o[d] /= total;
        lse_[static_cast<size_t>(index)] = top + std::log(total);
      } else {
        lse_[static_cast<size_t>(index)] = -std::numeric_limits<float>::infinity();
      }
    }
  }

  int64_t item_partial(const SplitTask& task, int32_t c) const {
    return plan_.items[static_cast<size_t>(task.first_item + c)].partial;
  }

  // Each task owns a key range of one sequence, so no two tasks write the same score.
  void score_pass(const Geometry& g, const bricks_attention_io& io, int64_t scratch_size) {
    flagged_.clear();
    flagged_begin_.assign(1, 0);
    struct Task {
      int32_t seq;
      int32_t key_begin;
      int32_t key_end;
    };
    std::vector<Task> tasks;
    for (size_t s = 0; s < plan_.seqs.size(); ++s) {
      const SeqView& seq = plan_.seqs[s];
      for (int32_t r = 0; r < seq.qo_len; ++r) {
        if (io.score_rows[seq.row0 + r] != 0) flagged_.push_back(r);
      }
      flagged_begin_.push_back(static_cast<int32_t>(flagged_.size()));
      for (int32_t k = 0; k < seq.kv_len; k += kScoreChunk) {
        tasks.push_back(Task{static_cast<int32_t>(s), k, std::min(seq.kv_len, k + kScoreChunk)});
      }
    }
    tbb::parallel_for(
        tbb::blocked_range<size_t>(0, tasks.size(), 1),
        [&](const tbb::blocked_range<size_t>& range) {
          float* scratch = local_scratch(scratch_size);
          for (size_t i = range.begin(); i != range.end(); ++i) {
            const Task& t = tasks[i];
            const SeqView& seq = plan_.seqs[static_cast<size_t>(t.seq)];
            const int32_t first = flagged_begin_[static_cast<size_t>(t.seq)];
            const int32_t count = flagged_begin_[static_cast<size_t>(t.seq) + 1] - first;
            kernels_.score(g, seq, t.key_begin, t.key_end, flagged_.data() + first, count, io.q,
                           lse_.data(), io.scores + seq.kv_offset + t.key_begin, Scratch{scratch});
          }
        });
  }

  const int32_t kv_chunk_size_;
  const KernelSet& kernels_;
  bricks_attention_batch batch_{};
  WorkPlan plan_;
  bool planned_ = false;
  std::vector<float> lse_;          // [rows][num_qo_heads] log-sum-exp of the last run
  std::vector<float> partial_o_;    // [partial vectors][head_dim] of split items
  std::vector<float> partial_lse_;  // [partial vectors]
  std::vector<int32_t> flagged_;    // rows flagged for scores, sequence by sequence
  std::vector<int32_t> flagged_begin_;
  tbb::enumerable_thread_specific<std::vector<float>> scratch_;
};

const char* const kSimdChoices[] = {"auto", "avx512", "avx2", "scalar"};
const bricks_param_spec kParams[] = {
    bricks::param_int("kv_chunk_size", 0, 0, 1 << 30,
                      "Keys per work item when splitting a sequence's KV across threads; 0 "
                      "splits only small batches, automatically."),
    bricks::param_enum("simd", "auto", kSimdChoices,
                       "Widest instruction set to use; the CPU's best up to this one runs."),
};
const char* const kProvides[] = {BRICKS_CAP_DEVICE_CPU, BRICKS_CAP_KV_F32, BRICKS_CAP_KV_F16,
                                 BRICKS_CAP_ATTENTION_SCORES};

}  // namespace
}  // namespace bricks_cpu_paged

BRICKS_PLUGIN("bricks_attention_cpu_paged", "1.0.0", "Apache-2.0",
              bricks::describe<bricks_cpu_paged::CpuPagedAttention>(
                  "cpu_paged", "1.0.0",
                  "Paged attention for CPUs: AVX-512/AVX2 kernels, TBB threads, split-KV decode.")
                  .params(bricks_cpu_paged::kParams)
                  .provides(bricks_cpu_paged::kProvides))
