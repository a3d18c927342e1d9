// JSONL traces: one request per line (see workload.h for the fields).
#include <algorithm>
#include <map>
#include <string>

#include "manifest/trace_rows.h"
#include "workload/workload.h"
#include "workload/workload_tokens.h"

namespace bricks::engine {

std::vector<RequestSpec> read_trace(const std::filesystem::path& file, const WorkloadContext& ctx,
                                    uint64_t seed) {
  TokenDraw draw(ctx, seed);
  std::map<uint64_t, std::vector<int32_t>> conversation_tokens;  // the last turn's prompt
  std::map<uint64_t, std::vector<int32_t>> group_prefix;
  std::vector<RequestSpec> out;
  try {
    manifest::read_trace_rows(file, [&](const manifest::TraceRow& row, int line_no) {
      RequestSpec r;
      r.arrival_s = row.arrival_s;
      r.max_new_tokens = row.max_tokens;
      r.tenant = row.tenant;
      r.priority = row.priority;
      r.conversation = row.conversation;
      r.turn = row.turn;
      r.prefix_group = row.prefix_group;
      if (row.prompt) {
        if (ctx.tokenizer == nullptr) {
          throw WorkloadError(file.string() + ":" + std::to_string(line_no) +
                              ": has a text \"prompt\" but this device has no tokenizer "
                              "(sim); give \"prompt_len\" (tokens) instead");
        }
        r.prompt = ctx.tokenizer->encode(*row.prompt, true);
      } else {
        std::vector<int32_t> prefix;
        if (r.conversation != 0) prefix = conversation_tokens[r.conversation];
        const int32_t plen = row.prefix_len;
        if (r.prefix_group != 0 && plen > 0 && prefix.empty()) {
          std::vector<int32_t>& shared = group_prefix[r.prefix_group];
          if (static_cast<int32_t>(shared.size()) < plen) {
            draw.append(shared, plen - static_cast<int32_t>(shared.size()));
          }
          prefix.assign(shared.begin(), shared.begin() + plen);
        }
        // The prefix from an earlier turn already starts with BOS.
        if (!prefix.empty() && draw.bos() >= 0 && prefix.front() == draw.bos()) {
          prefix.erase(prefix.begin());
        }
        r.prompt = draw.prompt(row.prompt_len, prefix);
      }
      if (r.conversation != 0) conversation_tokens[r.conversation] = r.prompt;
      out.push_back(std::move(r));
    });
  } catch (const manifest::TraceError& e) {
    throw WorkloadError(e.what());
  }
  return out;
}

std::filesystem::path trace_path(const bricks::manifest::Workload& w,
                                 const std::filesystem::path& base_dir) {
  std::filesystem::path file = w.trace();
  return file.is_relative() ? base_dir / file : file;
}

TraceArrivals::TraceArrivals(const std::filesystem::path& file) : file_(file.string()) {
  try {
    manifest::read_trace_rows(
        file, [&](const manifest::TraceRow& row, int) { arrivals_.push_back(row.arrival_s); });
  } catch (const manifest::TraceError& e) {
    throw WorkloadError(e.what());
  }
}

double TraceArrivals::rate(size_t max_requests) const {
  const size_t rows =
      max_requests > 0 ? std::min(max_requests, arrivals_.size()) : arrivals_.size();
  const auto [first, last] = std::minmax_element(arrivals_.begin(), arrivals_.begin() + rows);
  if (rows < 2 || !(*last > *first)) {
    throw WorkloadError(file_ + ": the trace's " + std::to_string(rows) +
                        (rows == 1 ? " row has" : " rows have") +
                        " no arrival rate to scale (it needs two rows or more, arriving at "
                        "different times); run it at its own times with `bricks run`");
  }
  return static_cast<double>(rows - 1) / (*last - *first);
}

}  // namespace bricks::engine
