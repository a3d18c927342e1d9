// Runs a device.cuda attention brick on device copies of a host-built bricks_attention_io:
// the suite's batches live in host memory, and a cuda brick reads and writes GPU memory.
#pragma once

#include <cstddef>
#include <string>

#include "bricks/abi.h"

namespace bricks::testing {

// Elements (floats or bytes, as named) of each buffer an io points at.
struct IoSizes {
  size_t q = 0;           // floats
  size_t pool_bytes = 0;  // each of k_pool and v_pool
  size_t out = 0;         // floats
  size_t score_rows = 0;  // bytes
  size_t scores = 0;      // floats
};

// "" when a CUDA device can run kernels; else why not, in one line.
std::string cuda_unavailable();

// Copies the io's inputs to the GPU, calls `run`, waits for its work and copies out (and
// scores) back. Returns the brick's error text, or the CUDA error, or "".
std::string run_on_cuda(const bricks_attention_vtable* vt, void* instance,
                        const bricks_attention_io& io, const IoSizes& sizes);

}  // namespace bricks::testing
