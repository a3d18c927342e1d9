// bricks/scheduler_entry.hpp: a scheduler brick's descriptor whose C entry points let an
// error from the wired kv brick reach the host unchanged.
//
// bricks::describe<T> (bricks/bricks.hpp) turns any exception into a new error with the
// exception's message. An error the kv brick returned is owned by the host, though, and only
// the host can read or free it: KvClient (bricks/kv_client.hpp) throws it inside a KvError,
// and the schedule entry point below hands it back to the host as the step's error.
//
//   BRICKS_PLUGIN("my_plugin", "1.0.0", "Apache-2.0",
//                 bricks::sched::describe_scheduler<MyScheduler>("mine", "1.0.0", "One line.")
//                     .params(kParams))
//
// Also the params most schedulers share, worded once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"
#include "bricks/kv_client.hpp"

namespace bricks::sched {

// The vtable's schedule: T::schedule, with a KvError's kv error returned as is.
template <class T>
bricks_error* schedule_entry(void* instance, const bricks_sched_input* input,
                             bricks_step_plan* plan) {
  T& s = detail::self<T>(instance);
  bricks_error* from_kv = nullptr;
  bricks_error* own = guard(s.host().api(), [&] {
    try {
      s.schedule(*input, *plan);
    } catch (KvError& e) {
      from_kv = e.take();
    }
  });
  return from_kv != nullptr ? from_kv : own;
}

// The vtable's on_step_done: T::on_step_done. The verb returns no status, so an exception
// thrown there is lost.
template <class T>
void on_step_done_entry(void* instance, const bricks_step_result* result) {
  T& s = detail::self<T>(instance);
  (void)guard(s.host().api(), [&] { s.on_step_done(*result); });
}

// The scheduler vtable of T with the two entry points above.
template <class T>
inline constexpr bricks_scheduler_vtable kSchedulerVtable = {
    sizeof(bricks_scheduler_vtable), &detail::create<T>, &detail::destroy<T>, &schedule_entry<T>,
    &on_step_done_entry<T>};

// bricks::describe<T> with the vtable above; chain .params(...), .requires_caps(...) as with
// bricks::describe.
template <class T>
constexpr bricks::describe<T> describe_scheduler(const char* name, const char* version,
                                                 const char* summary) {
  static_assert(T::kKind == BRICKS_KIND_SCHEDULER, "describe_scheduler is for scheduler bricks");
  return bricks::describe<T>(name, version, summary).vtable(&kSchedulerVtable<T>);
}

// "preemption": recompute or swap.
inline const char* const kPreemptionModes[] = {"recompute", "swap"};
inline bricks_param_spec preemption_param() {
  return bricks::param_enum("preemption", "recompute", kPreemptionModes,
                            "What a preempted request loses: recompute frees its KV, swap "
                            "moves it to the host tier (needs a kv brick with " BRICKS_CAP_KV_SWAP
                            ").");
}
// "max_num_seqs": requests holding device KV at once.
inline bricks_param_spec max_num_seqs_param(int64_t default_value) {
  return bricks::param_int("max_num_seqs", default_value, 1, 65536,
                           "Most requests holding device KV (and so computing) at once.");
}

}  // namespace bricks::sched
