#include "workload/workload_feed.h"

#include <algorithm>
#include <utility>

namespace bricks::engine {

void run_stream(Engine& engine, RequestStream& stream,
                const std::function<void(const Engine&)>& progress,
                const std::function<bool()>& stop) {
  RequestSpec next;
  bool have = stream.next(next);
  // Before a step the engine admits every request that has arrived by now, and an idle
  // engine waits for the earliest one pending and then admits all arrived by then: both
  // sets are submitted here, with the first request beyond them so that the earliest
  // pending one is known. The stream comes in arrival order.
  const auto feed = [&] {
    while (have && (engine.num_pending() == 0 ||
                    next.arrival_s <= std::max(engine.now(), engine.next_arrival()))) {
      engine.submit(std::move(next));
      have = stream.next(next);
    }
  };
  while (!(stop && stop())) {
    feed();
    if (!engine.step() && !have) break;
    if (progress) progress(engine);
  }
  if (progress) progress(engine);
}

}  // namespace bricks::engine
