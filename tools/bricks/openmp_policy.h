// The matrix library (oneDNN) runs its large products on OpenMP threads, and everything
// else runs on TBB's; by default an OpenMP thread spins for a while after each product,
// taking the core from the TBB threads that run next. A 290-token prefill of the small
// preset on two cores, one of them busy with another process, ran 1.65x slower that way
// (docs/benchmarks.md). libgomp reads its wait policy once, when it
// loads, so the CLI sets OMP_WAIT_POLICY=PASSIVE (unless the environment says otherwise)
// and starts itself again.
#pragma once

namespace bricks::cli {

// Call first in main(): returns only when the policy is set (or the restart failed).
void make_openmp_threads_sleep_when_idle(char** argv);

}  // namespace bricks::cli
