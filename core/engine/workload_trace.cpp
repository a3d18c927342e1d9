// JSONL traces: one request per line (see workload.h for the fields).
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

#include "engine/workload.h"
#include "engine/workload_tokens.h"

namespace bricks::engine {

namespace {

// The most tokens a line's prompt_len or prefix_len may ask for: above the context of any model
// this runtime reads, and low enough that drawing them cannot exhaust memory (4 MiB a prompt).
constexpr double kMaxTraceTokens = 1 << 20;

// `key` of the line as a T in [low, high]. The range is checked on the value as a double first:
// nlohmann converts a number of another type with a plain cast, which is undefined for a double
// outside T and wraps an integer.
template <typename T>
T get_at_least(const nlohmann::json& j, const char* key, T fallback, T low,
               const std::string& where, double high = std::numeric_limits<double>::infinity()) {
  if (!j.contains(key)) return fallback;
  const nlohmann::json& x = j.at(key);
  const double v = x.get<double>();
  auto refuse = [&](const std::string& bound) {
    throw WorkloadError(where + "\"" + key + "\" is " + x.dump() + "; it must be " + bound);
  };
  if (!(v >= static_cast<double>(low))) refuse(">= " + std::to_string(low));
  if (v > high) refuse("<= " + std::to_string(static_cast<int64_t>(high)));
  if constexpr (std::is_integral_v<T>) {
    if (v >= std::ldexp(1.0, std::numeric_limits<T>::digits)) {
      refuse("<= " + std::to_string(std::numeric_limits<T>::max()));
    }
  }
  return x.get<T>();
}

}  // namespace

std::vector<RequestSpec> read_trace(const std::filesystem::path& file, const WorkloadContext& ctx,
                                    uint64_t seed) {
  std::ifstream in(file);
  if (!in) throw WorkloadError(file.string() + ": cannot open the trace file");
  TokenDraw draw(ctx, seed);
  std::map<uint64_t, std::vector<int32_t>> conversation_tokens;  // the last turn's prompt
  std::map<uint64_t, std::vector<int32_t>> group_prefix;
  std::vector<RequestSpec> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(line_no) + ": ";
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // a syntax error, or a number past a double
      throw WorkloadError(where + "not valid JSON (" + e.what() + "); each line is one object");
    }
    if (!j.is_object()) throw WorkloadError(where + "each line must be a JSON object");
    try {
      RequestSpec r;
      r.arrival_s = get_at_least<double>(j, "arrival_s", 0.0, 0.0, where);
      const int32_t out_len = get_at_least<int32_t>(j, "output_len", 16, 1, where);
      r.max_new_tokens = get_at_least<int32_t>(j, "max_tokens", out_len, 1, where);
      r.tenant = get_at_least<int32_t>(j, "tenant", 0, 0, where);
      r.priority = get_at_least<int32_t>(j, "priority", 0, INT32_MIN, where);
      r.conversation = get_at_least<uint64_t>(j, "conversation", 0, 0, where);
      r.turn = get_at_least<int32_t>(j, "turn", 0, 0, where);
      r.prefix_group = get_at_least<uint64_t>(j, "prefix_group", 0, 0, where);
      if (j.contains("prompt")) {
        if (ctx.tokenizer == nullptr) {
          throw WorkloadError(where +
                              "has a text \"prompt\" but this device has no tokenizer "
                              "(sim); give \"prompt_len\" (tokens) instead");
        }
        r.prompt = ctx.tokenizer->encode(j.at("prompt").get<std::string>(), true);
      } else if (j.contains("prompt_len")) {
        const int32_t len = get_at_least<int32_t>(j, "prompt_len", 1, 1, where, kMaxTraceTokens);
        std::vector<int32_t> prefix;
        if (r.conversation != 0) prefix = conversation_tokens[r.conversation];
        const int32_t plen = get_at_least<int32_t>(j, "prefix_len", 0, 0, where, kMaxTraceTokens);
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
        r.prompt = draw.prompt(len, prefix);
      } else {
        throw WorkloadError(where + "needs \"prompt\" (text) or \"prompt_len\" (tokens)");
      }
      if (r.conversation != 0) conversation_tokens[r.conversation] = r.prompt;
      out.push_back(std::move(r));
    } catch (const nlohmann::json::exception& e) {
      throw WorkloadError(where + "a field has the wrong type (" + e.what() + ")");
    }
  }
  return out;
}

}  // namespace bricks::engine
