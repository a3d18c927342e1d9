#include "cpu/cpu_features.h"

#include <cpuid.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bricks::cpu {
namespace {

uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  const bool avx = (c >> 28) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  if (!osxsave || !avx) return CpuFeatures{};
  const uint64_t xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;
  const bool amx_state = (xcr0 & 0x60000) == 0x60000;
  if (!ymm_state) return CpuFeatures{};
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = (b >> 5) & 1;
  const bool avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1;
  const bool avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
  f.avx512f = zmm_state && avx512f && avx512dq && avx512bw && avx512vl;
  f.avx512vnni = f.avx512f && ((c >> 11) & 1);
  f.avx512fp16 = f.avx512f && ((d >> 23) & 1);
  f.amx_bf16 = amx_state && ((d >> 22) & 1) && ((d >> 24) & 1);
  const unsigned subleaves = a;
  if (subleaves >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    f.avx512bf16 = f.avx512f && ((a >> 5) & 1);
    f.avx_vnni = f.avx2 && ((a >> 4) & 1);
  }
  return f;
}

Isa isa_from_env(Isa fallback) {
  const char* v = std::getenv("BRICKS_CPU_ISA");
  if (v == nullptr || *v == '\0') return fallback;
  if (std::strcmp(v, "scalar") == 0) return Isa::Scalar;
  if (std::strcmp(v, "avx2") == 0) return Isa::Avx2;
  if (std::strcmp(v, "avx512") == 0) return Isa::Avx512;
  std::fprintf(stderr,
               "bricks_cpu: BRICKS_CPU_ISA=%s is not one of scalar, avx2, avx512; "
               "using the best level this CPU supports\n",
               v);
  return fallback;
}

std::atomic<int>& limit_slot() {
  static std::atomic<int> slot{static_cast<int>(isa_from_env(Isa::Avx512))};
  return slot;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

const char* to_string(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
  }
  return "?";
}

Isa best_isa() {
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.fma && f.f16c) return Isa::Avx512;
  if (f.avx2 && f.fma && f.f16c) return Isa::Avx2;
  return Isa::Scalar;
}

Isa active_isa() {
  const int limit = limit_slot().load(std::memory_order_relaxed);
  const int best = static_cast<int>(best_isa());
  return static_cast<Isa>(limit < best ? limit : best);
}

void set_isa_limit(Isa limit) { limit_slot().store(static_cast<int>(limit)); }

}  // namespace bricks::cpu
