#include "report/report_requests.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace bricks::engine {

namespace {

nlohmann::json seconds_or_null(double s, bool measured) {
  return measured ? nlohmann::json(s) : nlohmann::json();
}

}  // namespace

std::string requests_jsonl(const std::vector<RequestRecord>& records) {
  std::string out;
  for (const RequestRecord& r : records) {
    nlohmann::json j = {{"id", r.id},
                        {"tenant", r.tenant},
                        {"priority", r.priority},
                        {"arrival_s", r.arrival_s},
                        {"first_token_s", seconds_or_null(r.arrival_s + r.ttft_s, r.has_ttft())},
                        {"end_s", r.end_s},
                        {"ttft_s", seconds_or_null(r.ttft_s, r.has_ttft())},
                        {"tpot_s", seconds_or_null(r.tpot_s, r.has_tpot())},
                        {"e2e_s", seconds_or_null(r.e2e_s, r.e2e_s >= 0)},
                        {"prompt_tokens", r.prompt_tokens},
                        {"output_tokens", r.output_tokens},
                        {"preemptions", r.preemptions},
                        {"finish", r.finish},
                        {"prompt_tokens_truncated", r.prompt_tokens_truncated},
                        {"max_tokens_clamped", r.max_tokens_clamped}};
    char digest[17];
    std::snprintf(digest, sizeof(digest), "%016llx",
                  static_cast<unsigned long long>(r.output_digest));
    j["output_digest"] = digest;
    if (r.failed) j["failure"] = r.failure;
    out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
  }
  return out;
}

}  // namespace bricks::engine
