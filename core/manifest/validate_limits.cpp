// Requests the scheduler can never schedule under the limits the manifest configures.
//
// A scheduler that declares an int param `max_num_batched_tokens` and a bool param
// `enable_chunked_prefill` (as fcfs does) computes a whole prompt in one step when chunked
// prefill is off, so a prompt longer than the budget fails at run time. The budget 0 is
// "auto" (the brick sizes it to the model's context) and is always large enough. The
// longest prompt comes from the generator's prompt length bound or from the trace's rows.
#include <algorithm>

#include "manifest/trace_rows.h"
#include "validate_checker.h"
#include "validate_checks.h"

namespace bricks::manifest {

namespace {

// The longest prompt the workload can hold and the field that says so; 0 when unbounded or
// unknown (conversations grow their prompts turn by turn; text prompts need the tokenizer).
struct Longest {
  int64_t tokens = 0;
  std::string field;
  std::string trace_place;  // "file:line" for a trace row
};

Longest longest_prompt(const LoadedManifest& m) {
  const Workload& w = m.proto.workload();
  Longest out;
  if (w.has_generator()) {
    const Generator& g = w.generator();
    if (g.has_conversations()) return out;
    const std::string p = "workload.generator.prompt_len";
    if (!g.has_prompt_len()) {
      out = {g.prompt_len_max(), p + "_max", ""};
    } else if (g.prompt_len().kind() == "fixed") {
      out = {g.prompt_len().value(), p + ".value", ""};
    } else {
      out = {g.prompt_len().max(), p + ".max", ""};
    }
  } else if (!w.trace().empty()) {
    const std::filesystem::path file = m.resolve(w.trace());
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return out;  // reported elsewhere
    try {
      const TraceCheck t = check_trace_file(file, 0, 0);
      out = {t.longest_prompt, "workload.trace",
             file.string() + ":" + std::to_string(t.longest_prompt_line)};
    } catch (const TraceError&) {
      return out;  // reported by the trace check
    }
  }
  // truncate_prompt keeps a prompt within the model's context.
  const int32_t context = known_context(m.proto);
  if (w.context_overflow() == "truncate_prompt" && context > 0) {
    out.tokens = std::min<int64_t>(out.tokens, context - 1);
  }
  return out;
}

// The value of param `name` of `brick`: the manifest's, else the declared default.
int64_t param_or_default(const Brick& brick, const host::ParamInfo& p) {
  auto it = brick.params().find(p.name);
  if (it == brick.params().end()) return p.default_int;
  if (it->second.v_case() == Value::kInt) return it->second.int_();
  if (it->second.v_case() == Value::kBool) return it->second.bool_() ? 1 : 0;
  return p.default_int;  // a wrong type is reported by check_params
}

}  // namespace

void check_limits(const LoadedManifest& m, const host::Catalogue& catalogue,
                  std::vector<Diagnostic>& diags) {
  for (int i = 0; i < m.proto.bricks_size(); ++i) {
    const Brick& b = m.proto.bricks(i);
    if (b.kind() != "scheduler") continue;
    const host::BrickInfo* info = catalogue.find(BRICKS_KIND_SCHEDULER, b.name());
    if (info == nullptr) continue;  // reported by check_bricks
    const host::ParamInfo* budget = info->find_param("max_num_batched_tokens");
    const host::ParamInfo* chunked = info->find_param("enable_chunked_prefill");
    if (budget == nullptr || chunked == nullptr || budget->type != BRICKS_PARAM_INT ||
        chunked->type != BRICKS_PARAM_BOOL) {
      continue;
    }
    const int64_t tokens = param_or_default(b, *budget);
    if (tokens <= 0 || param_or_default(b, *chunked) != 0) continue;
    const Longest longest = longest_prompt(m);
    if (longest.tokens <= tokens) continue;
    const std::string path = "bricks[" + std::to_string(i) + "]";
    const bool written = b.params().count(budget->name) > 0;
    const std::string at =
        written ? path + ".params[max_num_batched_tokens].value.int" : path + ".name";
    const std::string source = longest.trace_place.empty()
                                   ? longest.field + " " + std::to_string(longest.tokens)
                                   : "a trace row of " + std::to_string(longest.tokens) +
                                         " prompt tokens (" + longest.trace_place + ")";
    diags.push_back(m.at(at,
                         "scheduler '" + b.name() + "' computes a whole prompt in one step, "
                         "but its max_num_batched_tokens " + std::to_string(tokens) +
                         " is below the workload's longest prompt: " + source +
                         " can never be scheduled",
                         "raise max_num_batched_tokens to at least " +
                             std::to_string(longest.tokens) +
                             " (0: the model's context), or set enable_chunked_prefill: true"));
  }
}

}  // namespace bricks::manifest
