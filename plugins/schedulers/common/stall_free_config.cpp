#include <string>

#include "bricks/error.hpp"
#include "stall_free.h"

namespace bricks::sched {

StallFreeConfig stall_free_config(const char* brick, const Params& params, bool with_min_chunk) {
  const std::string who = std::string("scheduler ") + brick;
  const std::string mode = params.get_string("preemption");
  if (mode != "recompute" && mode != "swap") {
    throw Error::invalid(who + ": preemption '" + mode + "' is not one of recompute, swap");
  }
  const int64_t seqs = params.get_int("max_num_seqs");
  const int64_t min_chunk = with_min_chunk ? params.get_int("min_chunk") : 1;
  if (seqs < 1 || min_chunk < 1) {
    throw Error::invalid(who + (with_min_chunk ? ": max_num_seqs and min_chunk must be >= 1"
                                               : ": max_num_seqs must be >= 1"));
  }
  StallFreeConfig c;
  c.brick = brick;
  c.max_num_seqs = static_cast<int32_t>(seqs);
  c.min_chunk = static_cast<int32_t>(min_chunk);
  c.swap = mode == "swap";
  return c;
}

}  // namespace bricks::sched
