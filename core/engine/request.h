// A request as the engine tracks it, from acceptance to its end.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bricks/abi.h"
#include "cpu/sampler.h"

namespace bricks::engine {

enum class FinishReason { kNone, kStop, kLength, kFailed };
const char* finish_reason_name(FinishReason r);

// A block of input embeddings among the prompt tokens: an image's patches, as a LLaVA
// projector would hand them to the language model. The patches take the consecutive
// prompt positions [offset, offset + grid_w * grid_h), row-major over the grid, and the
// prompt holds a placeholder id at each of them (engine/image_input.h says which ids).
struct ImageInput {
  int32_t offset = 0;
  int32_t grid_w = 0;
  int32_t grid_h = 0;
  // [grid_w * grid_h][hidden] f32; shared so copies of a spec do not copy the pixels' worth.
  std::shared_ptr<const std::vector<float>> embeddings;

  int32_t num_patches() const { return grid_w * grid_h; }
  int32_t end() const { return offset + num_patches(); }
};

// What to do with a request whose prompt plus max_new_tokens exceeds the model's context.
enum class ContextOverflow {
  kFail,            // fail it with the reason (counted by reason in the report)
  kTruncatePrompt,  // keep the prompt's last (context - max_new_tokens) tokens
  kClampMaxTokens,  // lower max_new_tokens to what the context leaves after the prompt
};
const char* context_overflow_name(ContextOverflow o);
// "fail", "truncate_prompt", "clamp_max_tokens"; false for anything else.
bool parse_context_overflow(const std::string& name, ContextOverflow* out);

// What a client asks for.
struct RequestSpec {
  std::vector<int32_t> prompt;   // token ids, BOS included when wanted
  int32_t max_new_tokens = 16;
  double arrival_s = 0.0;        // relative to the start of the run
  int32_t priority = 0;
  int32_t tenant = 0;
  uint64_t conversation = 0;
  int32_t turn = 0;
  uint64_t prefix_group = 0;
  // Leading prompt tokens whose KV arrives precomputed (moved from a prefill instance by a
  // disaggregated cluster): the KV brick allocates them, the device charges no compute for
  // them. 0 = none. Ignored after a recompute preemption, which recomputes everything.
  int32_t kv_ready_tokens = 0;
  cpu::SamplingParams sampling;
  bool ignore_eos = false;       // run to max_new_tokens
  std::vector<std::string> stop; // stop strings (checked on decoded text)
  std::vector<int32_t> stop_tokens;  // token ids that end the request as EOS does
  std::string adapter;           // LoRA adapter by its model.adapters name; empty: none
  // Log-probabilities to record per generated token, from the raw logits (before penalty
  // and temperature): -1 none; 0 the chosen token's; k > 0 also the k most likely tokens.
  int32_t logprobs = -1;
  // Images among the prompt, by ascending offset, not overlapping (engine/image_input.h).
  std::vector<ImageInput> images;
  ContextOverflow context_overflow = ContextOverflow::kFail;
};

// What the forward pass keeps of a prompt with images that the scheduler split into
// chunks: every chunk but the last stops at the first pruning point, and the pruner then
// sees the whole prompt in the chunk that completes it (engine/prune_stage.h).
struct PruneStash {
  int32_t tokens = 0;             // the prompt's first `tokens` are stashed
  std::vector<float> hidden;      // [tokens][hidden] outputs of the first pruning layer
  std::vector<float> q, k;        // that layer's q [tokens][q_dim] and k [tokens][kv_dim], RoPE'd
  std::vector<float> text_scores; // [tokens] attention received from text query rows so far

  void clear() { *this = PruneStash{}; }
};

// One token and its log-probability under the model's raw distribution.
struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
};

// What was recorded for one generated token when the request asked for logprobs.
struct GeneratedLogprobs {
  float logprob = 0;              // of the token that was chosen
  std::vector<TokenLogprob> top;  // the spec.logprobs most likely, most likely first
};

struct Request {
  uint64_t id = 0;
  RequestSpec spec;
  std::vector<int32_t> tokens;   // prompt + generated
  bricks_request_state state = BRICKS_REQ_WAITING;
  int32_t num_computed = 0;
  int32_t num_generated = 0;
  int32_t num_preemptions = 0;
  std::string text;              // decoded output so far (for stop strings and streaming)
  cpu::Rng rng{0};

  // Timestamps on the engine clock (seconds from the start of the run).
  double first_scheduled_s = -1.0;
  std::vector<double> token_times_s;  // one per generated token
  double finished_s = -1.0;
  FinishReason finish = FinishReason::kNone;
  std::string failure;           // why it failed, when it did
  bool cancelled = false;        // failed by Engine::cancel, not by a problem of its own
  // What spec.context_overflow did at submission: prompt tokens dropped from the front,
  // and output tokens taken off max_new_tokens (0 when the request fit).
  int32_t prompt_tokens_truncated = 0;
  int32_t max_tokens_clamped = 0;
  std::vector<GeneratedLogprobs> logprobs;  // one per generated token when spec.logprobs >= 0

  // KV groups after pruning points (engine/kv_groups.h). group_tokens[g]: tokens the
  // request holds in group g >= 1 (group 0 holds num_computed; [0] is unused).
  std::vector<int32_t> group_tokens;
  bool pruned = false;           // its prompt passed every pruning point
  PruneStash stash;

  int32_t prompt_len() const { return static_cast<int32_t>(spec.prompt.size()); }
  // Of `count` tokens computed from position `from`, those whose KV arrived precomputed
  // (spec.kv_ready_tokens): they cost no compute. After a recompute preemption the KV is
  // gone and none arrived.
  int32_t kv_arrived(int32_t from, int32_t count) const {
    if (num_preemptions != 0 || spec.kv_ready_tokens <= from) return 0;
    return spec.kv_ready_tokens - from < count ? spec.kv_ready_tokens - from : count;
  }
  int32_t num_tokens() const { return static_cast<int32_t>(tokens.size()); }
  bool done() const { return finish != FinishReason::kNone; }
};

}  // namespace bricks::engine
