// The kernel benchmarks' registration, one function per family; main calls them in the
// order the run prints them.
#pragma once

namespace bricks::cpu::bench {

// Triad, ReadSweep and FmaPeakF32 at 1 and 2 threads. Register these first: later benchmarks
// divide by their results.
void register_memory();
void register_gemv();  // Gemv, GemvCached
void register_decode_layers();
void register_gemm();  // Gemm, Crossover
void register_ops();   // Rmsnorm, Rope, Sample

}  // namespace bricks::cpu::bench
