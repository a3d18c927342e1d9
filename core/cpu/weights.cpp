#include "cpu/weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "bricks/error.hpp"

namespace bricks::cpu {

const char* to_string(WeightType t) { return model::dtype_name(t); }

const char* to_string(Compute c) { return c == Compute::F32 ? "f32" : "bf16"; }

size_t row_bytes(WeightType t, int64_t cols) {
  const model::BlockShape b = model::dtype_block(t);
  return static_cast<size_t>(cols / b.values) * b.bytes;
}

void check_view(const WeightView& w, const std::string& where) {
  if (w.data == nullptr) throw Error::invalid(where + ": weight data is null");
  if (w.rows <= 0 || w.cols <= 0) {
    throw Error::invalid(where + ": weight shape " + std::to_string(w.rows) + "x" +
                         std::to_string(w.cols) + " must have positive rows and cols");
  }
  if (!model::row_fits(w.type, w.cols)) {
    const std::string name = to_string(w.type);
    throw Error::invalid(where + ": " + name + " weight has " + std::to_string(w.cols) +
                         " columns; " + name + " rows must be a multiple of " +
                         std::to_string(model::dtype_block(w.type).values) +
                         " values (re-quantise the model or store this tensor as f16)");
  }
}

void prefault(const void* p, size_t n) {
  if (p == nullptr || n == 0) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) / page * page;
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + n;
#ifdef MADV_POPULATE_READ
  // Linux 5.14 and later fault the whole range in one call.
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ) == 0) return;
#endif
  // Older kernels: one read per page.
  unsigned char sum = 0;
  for (uintptr_t a = std::max(begin, reinterpret_cast<uintptr_t>(p)); a < end; a += page) {
    sum ^= *reinterpret_cast<const volatile unsigned char*>(a);
  }
  static_cast<void>(sum);
}

}  // namespace bricks::cpu
