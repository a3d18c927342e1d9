// One JSON line per ended request (`bricks run --requests-out`, output.requests_jsonl):
// what a study of a replayed trace needs beside the report's aggregates.
#pragma once

#include <string>
#include <vector>

#include "report/report_metrics.h"

namespace bricks::engine {

// Each record as one line: id, tenant, priority, arrival_s, first_token_s (null when no
// token came), end_s, ttft_s, tpot_s, e2e_s (null when not measured), prompt_tokens,
// output_tokens, preemptions, finish, prompt_tokens_truncated, max_tokens_clamped, and
// failure for a failed request. Times are seconds on the run's clock.
std::string requests_jsonl(const std::vector<RequestRecord>& records);

}  // namespace bricks::engine
