// The matrix library (oneDNN) runs its large products on OpenMP threads, and everything
// else runs on TBB's; by default an OpenMP thread spins for a while after each product,
// taking the core from the TBB threads that run next. A 290-token prefill of the small
// preset on two cores, one of them busy with another process, ran 1.65x slower that way
// (docs/benchmarks.md). libgomp reads its wait policy once, when it
// loads, so the commands that run forward passes (Work::kForwardPasses, command.h) set
// OMP_WAIT_POLICY=PASSIVE (unless the environment says otherwise) and start themselves again.
// The others do not: a second start cost `bricks validate` 165 against 138 ms (release) and
// about 0.3 s under the sanitizers.
#pragma once

namespace bricks::cli {

// Call first in main(): returns only when the policy is set (or the restart failed).
void make_openmp_threads_sleep_when_idle(char** argv);

}  // namespace bricks::cli
