// Weight storage types and the view a Linear or an embedding table is built from.
//
// Layout (GGUF): a matrix is [rows][cols] row-major; for a linear layer rows = out_features
// and cols = in_features. A quantized row is cols / block values of ggml blocks
// (bricks/model/quant_blocks.h): Q8_0 is {f16 scale, int8 q[32]} (34 bytes), value = scale * q.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "bricks/model/dtype.h"

namespace bricks::cpu {

// The model file's element types, read in place.
using WeightType = model::DType;

// Precision the arithmetic of a Linear runs in. F32: exact reference (weights converted to
// f32 on the fly, f32 accumulation). BF16: activations rounded to bf16, f32 accumulation;
// uses bf16 tiles (AMX / vdpbf16ps) where the CPU has them.
enum class Compute { F32, BF16 };

// The order of a matrix's bytes. Gguf: as a model file stores them, row after row of blocks.
// Lanes: q8_0 or q4_K rewritten at load for the AVX512_VNNI kernels (weight_lanes.h), the same
// number of bytes in another order; only a Linear reads it.
enum class WeightLayout { Gguf, Lanes };

// A non-owning view of a weight matrix. `data` must stay valid while anything built from
// the view (a Linear) is alive.
struct WeightView {
  WeightType type = WeightType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
  WeightLayout layout = WeightLayout::Gguf;
};

inline constexpr int64_t kQ8Block = 32;       // values per Q8_0 block
inline constexpr int64_t kQ8BlockBytes = 34;  // f16 scale + 32 int8

const char* to_string(WeightType t);
const char* to_string(Compute c);

// Bytes of one stored row of `cols` values of type `t` (a block type requires cols to be a
// multiple of its block).
size_t row_bytes(WeightType t, int64_t cols);

// Throws bricks::Error (invalid argument) naming `where` when the view cannot be used:
// null data, non-positive shape, or a block type's width that is not a multiple of its block.
void check_view(const WeightView& w, const std::string& where);

// Maps every page of [p, p + n) (weights memory-mapped from a model file) into this process
// now, so that the first forward pass does not pay one page fault per 4 KiB of weights.
// Reads the pages from the file when they are not cached. Best effort: never throws.
void prefault(const void* p, size_t n);

// As prefault(), and where the kernel grants transparent huge pages on request, the whole
// 2 MiB pages of [p, p + n) (weights in a private read-only mapping of a model file) are
// replaced in place by anonymous huge pages holding the same bytes: same addresses, same
// contents, still read-only. A decode pass reads every weight once, and with 4 KiB file pages
// each page costs a TLB miss; on the AVX-512 EPYC (a VM) this made batch-1 decode of a
// 2.2 GB f16 model 14-25 % faster and of q4_k_m 5-8 %, and loading 1.5 s per GB slower (the
// hypervisor backs each new huge page). The copy goes 64 MiB at a time on each thread, so the
// process holds at most that much twice per thread. Best effort: where a step fails its pages
// stay as they were.
// Returns the bytes moved.
size_t prefault_huge(const void* p, size_t n);

// Gives back this process's pages of the whole 4 KiB pages inside [p, p + n), weights whose
// bytes were copied elsewhere (MADV_PAGEOUT: file pages are dropped and read again if
// touched; anonymous ones go to swap, never lost). Best effort: never throws.
void release_pages(const void* p, size_t n);

// Anonymous memory for weights rewritten at load (bf16 copies of f16 matrices): 2 MiB
// aligned and on huge pages where the kernel grants them on request, read-only once sealed.
class WeightArena {
 public:
  // Throws bricks::Error when `bytes` cannot be mapped, with the size and the reason.
  explicit WeightArena(size_t bytes);
  WeightArena(const WeightArena&) = delete;
  WeightArena& operator=(const WeightArena&) = delete;
  ~WeightArena();

  char* data() const { return data_; }
  size_t size() const { return size_; }
  // Makes the memory read-only; writes after this fault.
  void seal();

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;
};

}  // namespace bricks::cpu
