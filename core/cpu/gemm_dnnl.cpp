#include "cpu/gemm_dnnl.h"

#include "bricks/error.hpp"
#include "cpu/threads_internal.h"

#if BRICKS_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace bricks::cpu::detail {

#if BRICKS_HAVE_DNNL
namespace {

using dt = dnnl::memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::matmul::primitive_desc make_pd(dt type, int64_t m, int64_t k, int64_t n, int64_t ldy) {
  const dnnl::memory::desc src({m, k}, type, dnnl::memory::dims{k, 1});
  const dnnl::memory::desc wei({k, n}, type, dnnl::memory::dims{1, k});
  const dnnl::memory::desc dst({m, n}, dt::f32, dnnl::memory::dims{ldy, 1});
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), cpu_engine());
}

void run(dt type, const void* x, int64_t m, int64_t k, const void* w, int64_t n, float* y,
         int64_t ldy) {
  sync_openmp_threads();
  try {
    const auto pd = make_pd(type, m, k, n, ldy);
    dnnl::engine& eng = cpu_engine();
    dnnl::memory src(pd.src_desc(), eng, const_cast<void*>(x));
    dnnl::memory wei(pd.weights_desc(), eng, const_cast<void*>(w));
    dnnl::memory dst(pd.dst_desc(), eng, y);
    dnnl::stream stream(eng);
    dnnl::matmul(pd).execute(stream,
                             {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    stream.wait();
  } catch (const dnnl::error& e) {
    throw Error::internal(std::string("oneDNN matmul ") + std::to_string(m) + "x" +
                          std::to_string(k) + "x" + std::to_string(n) + " failed: " + e.what());
  }
}

}  // namespace

bool dnnl_built() { return true; }

std::string dnnl_impl(bool bf16, int64_t m, int64_t k, int64_t n) {
  try {
    const auto pd = make_pd(bf16 ? dt::bf16 : dt::f32, m, k, n, n);
    std::string impl = pd.impl_info_str();
    if (impl.rfind("ref", 0) == 0) return {};
    return impl;
  } catch (const dnnl::error&) {
    return {};
  }
}

void dnnl_matmul_f32(const float* x, int64_t m, int64_t k, const float* w, int64_t n, float* y,
                     int64_t ldy) {
  run(dt::f32, x, m, k, w, n, y, ldy);
}

void dnnl_matmul_bf16(const uint16_t* x, int64_t m, int64_t k, const uint16_t* w, int64_t n,
                      float* y, int64_t ldy) {
  run(dt::bf16, x, m, k, w, n, y, ldy);
}

#else

bool dnnl_built() { return false; }
std::string dnnl_impl(bool, int64_t, int64_t, int64_t) { return {}; }
void dnnl_matmul_f32(const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t) {
  throw Error::unsupported("bricks_cpu was built without oneDNN");
}
void dnnl_matmul_bf16(const uint16_t*, int64_t, int64_t, const uint16_t*, int64_t, float*,
                      int64_t) {
  throw Error::unsupported("bricks_cpu was built without oneDNN");
}

#endif

}  // namespace bricks::cpu::detail
