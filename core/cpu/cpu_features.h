// What the CPU can do, and which instruction set the kernels dispatch to.
//
// Detection uses CPUID and XGETBV (the OS must have enabled the register state), once per
// process. The dispatch level can be lowered (never raised above what the CPU has) with
// set_isa_limit() or the environment variable BRICKS_CPU_ISA=scalar|avx2|avx512, read at
// first use; tests use this to check every path on one machine.
#pragma once

namespace bricks::cpu {

struct CpuFeatures {
  bool avx2 = false;
  bool avx512f = false;  // with BW, DQ and VL (the kernels need all four)
  bool avx512bf16 = false;
  bool avx512fp16 = false;
  bool avx512vnni = false;
  bool avx_vnni = false;  // vpdpbusd on ymm (VEX encoded), without AVX-512
  bool amx_bf16 = false;
  bool fma = false;
  bool f16c = false;
};

const CpuFeatures& cpu_features();

// Kernel families, in increasing order. Avx2 means AVX2 + FMA + F16C.
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

const char* to_string(Isa isa);

// The best level this CPU supports.
Isa best_isa();

// The level kernels dispatch to: min(best_isa(), limit). Objects that pick a kernel at
// construction (Linear) keep the level they were built with.
Isa active_isa();

// Lowers (or restores) the dispatch limit for objects built afterwards. Thread-safe.
void set_isa_limit(Isa limit);

}  // namespace bricks::cpu
