// A step timeline in the Chrome trace-event format (`bricks run --trace-out F.json`), which
// Perfetto (ui.perfetto.dev) and chrome://tracing open: one track per engine instance, a
// slice per step with its batch (prefill and decode sequences and tokens, preemptions,
// swaps, KV copied, tokens whose KV arrived from a prefill instance) and counters for live
// requests and KV use.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace bricks::engine {

class StepTrace {
 public:
  // Names instance `instance`'s track ("instance 0 (prefill)"); unnamed tracks are
  // "engine".
  void name_instance(size_t instance, std::string name);
  void add(size_t instance, const StepEvent& e);
  size_t size() const { return events_.size(); }
  // The whole trace as JSON text ({"traceEvents": [...], "displayTimeUnit": "ms"}).
  std::string chrome_json() const;

 private:
  struct Entry {
    size_t instance;
    StepEvent event;
  };
  std::vector<std::string> names_;
  std::vector<Entry> events_;
};

}  // namespace bricks::engine
