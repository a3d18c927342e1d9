// Thread count for every kernel of bricks_cpu: TBB work (GEMV, conversions) and oneDNN's
// OpenMP team (GEMM) follow the same number.
#pragma once

namespace bricks::cpu {

// Sets the number of threads kernels use (n >= 1; n <= 0 restores the default, all cores
// this process may run on). Process-wide; call it before starting work, not concurrently
// with running kernels.
void set_num_threads(int n);

// The current thread count (the default until set_num_threads is called).
int num_threads();

}  // namespace bricks::cpu
