// Running an engine on a request stream: each request is submitted only when the run
// reaches its arrival, so the engine holds the requests that have arrived and not ended
// (and the next one) instead of the whole workload.
#pragma once

#include <functional>

#include "engine/engine.h"
#include "workload/workload.h"

namespace bricks::engine {

// Submits the requests of `stream` to `engine` and steps it until every one has ended, or
// until `stop` (asked before each step) says true; `progress` is told after each step and
// once at the end. The engine steps exactly as if the stream had been submitted whole
// first (same ids, same arrivals admitted in each step, same waits for the next arrival),
// with one difference: a request refused at submission ends at the time it is submitted
// (its arrival, or the step after) rather than before the run starts.
void run_stream(Engine& engine, RequestStream& stream,
                const std::function<void(const Engine&)>& progress = {},
                const std::function<bool()>& stop = {});

}  // namespace bricks::engine
