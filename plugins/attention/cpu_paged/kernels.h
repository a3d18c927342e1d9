// The pieces of cpu_paged attention that the SIMD kernels see: raw pointers and sizes
// only. One KernelSet per instruction set (scalar, AVX2, AVX-512), picked at run time.
#pragma once

#include <cstdint>
#include <string>

namespace bricks_cpu_paged {

// What every work item of one step shares.
struct Geometry {
  int32_t num_qo_heads;
  int32_t num_kv_heads;
  int32_t group;  // num_qo_heads / num_kv_heads
  int32_t head_dim;
  int32_t page_size;
  bool kv_f16;  // pools hold IEEE halves, otherwise floats
  bool causal;
  float sm_scale;
  const int32_t* indices;  // the page table's physical block ids
  const void* k_pool;
  const void* v_pool;
};

struct SeqView {
  int32_t kv_len;
  int32_t qo_len;
  int32_t row0;        // first query row of the sequence in q / out
  int32_t page_begin;  // indptr[b]: its first entry in `indices`
  int64_t kv_offset;   // sum of earlier kv_len: where its scores start
};

// Where an item writes its normalised output and log-sum-exp. Query vector (r, g) of an
// item (row r of its tile, head g of its kv head's group) goes to
//   o   + (r * row_stride + g) * head_dim   and   lse + r * row_stride + g.
struct ItemOutput {
  float* o;
  float* lse;
  int32_t row_stride;
};

// Per-thread memory a kernel call may use; sized by scratch_floats().
struct Scratch {
  float* data;
};

struct KernelSet {
  const char* name;
  // Attention of rows [row_begin, row_end) of `seq` (all heads of kv head `kv_head`) over
  // keys [key_begin, key_end), each row also limited by causality. A query vector that sees
  // no key there gets o = 0 and lse = -inf.
  void (*attend)(const Geometry& g, const SeqView& seq, int32_t kv_head, int32_t row_begin,
                 int32_t row_end, int32_t key_begin, int32_t key_end, const float* q,
                 const ItemOutput& out, Scratch scratch);
  // Row `row` of `seq` for kv heads kv_head .. kv_head + kv_heads - 1, as attend for each of
  // them, with head h's vectors from out.o + h * group * head_dim and out.lse + h * group. A
  // set may walk the heads' keys together (see one_vector_kernel.inc), or call attend per head
  // (attend_per_head).
  void (*attend_heads)(const Geometry& g, const SeqView& seq, int32_t kv_head, int32_t kv_heads,
                       int32_t row, int32_t key_begin, int32_t key_end, const float* q,
                       const ItemOutput& out, Scratch scratch);
  // scores[j - key_begin] for keys [key_begin, key_end) of `seq`: the sum over the rows
  // listed in `rows` (relative to the sequence) of exp(logit - lse) averaged over heads,
  // where lse is [rows of the batch][num_qo_heads] from attend.
  void (*score)(const Geometry& g, const SeqView& seq, int32_t key_begin, int32_t key_end,
                const int32_t* rows, int32_t num_rows, const float* q, const float* lse,
                float* scores, Scratch scratch);
};

// KernelSet::attend_heads as one Attend call per head, for kernel sets with nothing better.
template <auto Attend>
void attend_per_head(const Geometry& g, const SeqView& seq, int32_t kv_head, int32_t kv_heads,
                     int32_t row, int32_t key_begin, int32_t key_end, const float* q,
                     const ItemOutput& out, Scratch scratch) {
  for (int32_t h = 0; h < kv_heads; ++h) {
    const ItemOutput head{out.o + int64_t{h} * g.group * g.head_dim, out.lse + h * g.group,
                          out.row_stride};
    Attend(g, seq, kv_head + h, row, row + 1, key_begin, key_end, q, head, scratch);
  }
}

// Floats of scratch one call needs for tiles of up to `tile_rows` rows, or for attend_heads
// over up to `step_heads` heads.
int64_t scratch_floats(const Geometry& g, int32_t tile_rows, int32_t step_heads);

extern const KernelSet kScalarKernels;
extern const KernelSet kAvx2Kernels;
extern const KernelSet kAvx512Kernels;

// The widest kernel set this CPU runs, but not wider than `limit` ("auto", "avx512",
// "avx2" or "scalar").
const KernelSet& select_kernels(const std::string& limit);

}  // namespace bricks_cpu_paged
