#include "report/step_trace.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace bricks::engine {

namespace {

using nlohmann::json;

// Trace-event times are microseconds.
double us(double s) { return std::round(s * 1e9) / 1e3; }

std::string slice_name(const StepEvent& e) {
  if (e.prefill_seqs > 0 && e.decode_seqs > 0) return "mixed";
  if (e.prefill_seqs > 0) return "prefill";
  if (e.decode_seqs > 0) return "decode";
  return "idle";
}

}  // namespace

void StepTrace::name_instance(size_t instance, std::string name) {
  if (names_.size() <= instance) names_.resize(instance + 1);
  names_[instance] = std::move(name);
}

void StepTrace::add(size_t instance, const StepEvent& e) { events_.push_back({instance, e}); }

std::string StepTrace::chrome_json() const {
  json out = json::array();
  size_t tracks = names_.size();
  for (const Entry& en : events_) tracks = std::max(tracks, en.instance + 1);
  for (size_t i = 0; i < tracks; ++i) {
    const std::string name = i < names_.size() && !names_[i].empty() ? names_[i] : "engine";
    const auto pid = static_cast<int64_t>(i);
    out.push_back({{"ph", "M"},
                   {"name", "process_name"},
                   {"pid", pid},
                   {"tid", 0},
                   {"args", {{"name", name}}}});
    out.push_back({{"ph", "M"},
                   {"name", "thread_name"},
                   {"pid", pid},
                   {"tid", 0},
                   {"args", {{"name", "steps"}}}});
  }
  for (const Entry& en : events_) {
    const StepEvent& e = en.event;
    const auto pid = static_cast<int64_t>(en.instance);
    json args = {{"step", e.step},
                 {"prefill_seqs", e.prefill_seqs},
                 {"prefill_tokens", e.prefill_tokens},
                 {"decode_seqs", e.decode_seqs},
                 {"decode_tokens", e.decode_tokens},
                 {"live", e.live}};
    if (e.arrived_tokens > 0) args["kv_arrived_tokens"] = e.arrived_tokens;
    if (e.preempted > 0) args["preempted"] = e.preempted;
    if (e.swapped_in > 0) args["swapped_in"] = e.swapped_in;
    if (e.failed > 0) args["failed"] = e.failed;
    if (e.copied_bytes > 0) args["kv_copied_bytes"] = e.copied_bytes;
    out.push_back({{"ph", "X"},
                   {"name", slice_name(e)},
                   {"cat", "step"},
                   {"pid", pid},
                   {"tid", 0},
                   {"ts", us(e.start_s)},
                   {"dur", us(e.duration_s)},
                   {"args", std::move(args)}});
    out.push_back({{"ph", "C"},
                   {"name", "requests"},
                   {"pid", pid},
                   {"ts", us(e.start_s)},
                   {"args", {{"live", e.live}, {"batch", e.prefill_seqs + e.decode_seqs}}}});
    out.push_back({{"ph", "C"},
                   {"name", "kv use %"},
                   {"pid", pid},
                   {"ts", us(e.start_s + e.duration_s)},
                   {"args", {{"device", std::round(e.kv_util * 1000) / 10}}}});
  }
  return json{{"traceEvents", std::move(out)}, {"displayTimeUnit", "ms"}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

}  // namespace bricks::engine
