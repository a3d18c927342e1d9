// Step events: one per step that ran, whose tokens add up to what the engine computed, and
// the Chrome trace-event timeline built from them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine_fixture.h"
#include "report/step_trace.h"

namespace bricks::testing {
namespace {

TEST(StepEvents, OneAStepAndTheirTokensAreWhatTheEngineComputed) {
  auto bricks = default_bricks();
  bricks[1].params.push_back({"enable_prefix_cache", bool_value(false)});
  bricks[0].params.push_back({"max_num_batched_tokens", int_value(16)});
  bricks[0].params.push_back({"enable_chunked_prefill", bool_value(true)});
  auto rt = engine::Runtime::create(make_manifest(bricks), {});
  engine::Engine& eng = rt->engine();
  std::vector<engine::StepEvent> events;
  eng.set_step_callback([&](const engine::StepEvent& e) { events.push_back(e); });
  int64_t prompt_tokens = 0;
  for (int32_t len : {5, 23, 40}) {
    engine::RequestSpec s;
    s.prompt.assign(static_cast<size_t>(len), 300);
    s.max_new_tokens = 6;
    s.ignore_eos = true;
    prompt_tokens += len;
    eng.submit(s);
  }
  eng.run_to_completion();
  ASSERT_EQ(static_cast<int64_t>(events.size()), eng.stats().steps);
  int64_t prefill = 0, decode = 0, tokens = 0;
  double last_end = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const engine::StepEvent& e = events[i];
    EXPECT_EQ(e.step, static_cast<int64_t>(i));
    EXPECT_GE(e.start_s, last_end) << "steps overlap at step " << i;
    EXPECT_LE(e.prefill_tokens + e.decode_tokens, 16) << "over the token budget at step " << i;
    EXPECT_EQ(e.decode_tokens, e.decode_seqs);
    last_end = e.start_s + e.duration_s;
    prefill += e.prefill_tokens;
    decode += e.decode_tokens;
  }
  tokens = prefill + decode;
  EXPECT_EQ(tokens, eng.stats().batched_tokens);
  EXPECT_EQ(prefill, prompt_tokens);  // no cache hits, no preemption: each prompt once
  EXPECT_EQ(decode, 3 * 5);           // the first token of each comes from its prefill
}

TEST(StepTrace, ChromeTraceHasNamedTracksSlicesAndCounters) {
  engine::StepTrace trace;
  trace.name_instance(1, "instance 1 (decode)");
  engine::StepEvent prefill;
  prefill.start_s = 0.001;
  prefill.duration_s = 0.0025;
  prefill.prefill_seqs = 2;
  prefill.prefill_tokens = 300;
  prefill.live = 3;
  prefill.kv_util = 0.25;
  engine::StepEvent decode;
  decode.step = 1;
  decode.start_s = 0.004;
  decode.duration_s = 0.001;
  decode.decode_seqs = decode.decode_tokens = 4;
  decode.preempted = 1;
  decode.copied_bytes = 4096;
  trace.add(0, prefill);
  trace.add(1, decode);
  const auto j = nlohmann::json::parse(trace.chrome_json());
  ASSERT_TRUE(j["traceEvents"].is_array());
  std::map<int64_t, std::string> names;
  std::vector<nlohmann::json> slices;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name") names[e["pid"]] = e["args"]["name"];
    if (e["ph"] == "X") slices.push_back(e);
  }
  EXPECT_EQ(names[0], "engine");
  EXPECT_EQ(names[1], "instance 1 (decode)");
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_EQ(slices[0]["name"], "prefill");
  EXPECT_DOUBLE_EQ(slices[0]["ts"].get<double>(), 1000.0);  // microseconds
  EXPECT_DOUBLE_EQ(slices[0]["dur"].get<double>(), 2500.0);
  EXPECT_EQ(slices[0]["args"]["prefill_tokens"], 300);
  EXPECT_FALSE(slices[0]["args"].contains("preempted"));
  EXPECT_EQ(slices[1]["name"], "decode");
  EXPECT_EQ(slices[1]["pid"], 1);
  EXPECT_EQ(slices[1]["args"]["preempted"], 1);
  EXPECT_EQ(slices[1]["args"]["kv_copied_bytes"], 4096);
}

}  // namespace
}  // namespace bricks::testing
