#include "openmp_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace bricks::cli {

void make_openmp_threads_sleep_when_idle(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;  // the user's choice, or set already
  if (::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // No /proc (or no exec): run on with the default policy; only speed differs.
}

}  // namespace bricks::cli
