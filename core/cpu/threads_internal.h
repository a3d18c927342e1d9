// Internal to bricks_cpu: thread helpers shared by the kernels.
#pragma once

namespace bricks::cpu {

// Makes the calling thread's OpenMP team size (used by oneDNN) equal num_threads().
void sync_openmp_threads();

}  // namespace bricks::cpu
