// Internal to bricks_cpu: per-thread scratch buffers that grow to the largest size asked of
// them and are reused from call to call.
#pragma once

#include <cstddef>
#include <vector>

namespace bricks::cpu {

// At least n elements of v, growing it when it is shorter; the contents are unspecified.
template <class T>
T* scratch(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace bricks::cpu
