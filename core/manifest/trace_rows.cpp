#include "manifest/trace_rows.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "host/did_you_mean.h"

namespace bricks::manifest {

void trace_fail(const std::string& where, const std::string& what, const std::string& fix) {
  throw TraceError(where + what + "; " + fix);
}

namespace {

using nlohmann::json;

const std::vector<std::string> kFields = {
    "arrival_s",    "prompt", "prompt_len", "prefix_len", "max_tokens",  "output_len",
    "tenant",       "priority", "turn",     "conversation", "prefix_group"};

// A whole number within [low, high], as int64 or uint64 as the field's type needs. A float
// with no fraction (128.0) is accepted; anything else is an error, never a cut.
template <typename T>
T whole(const json& row, const char* key, T fallback, T low, T high, const std::string& where) {
  const auto it = row.find(key);
  if (it == row.end()) return fallback;
  const json& v = *it;
  const std::string field = std::string("\"") + key + "\"";
  const std::string range = "give a whole number from " + std::to_string(low) + " to " +
                            std::to_string(high);
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(high) || (low > 0 && u < static_cast<uint64_t>(low))) {
      trace_fail(where, field + " is " + std::to_string(u) + ", out of range", range);
    }
    return static_cast<T>(u);
  }
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i < 0 && std::is_unsigned_v<T>) {
      trace_fail(where, field + " is " + std::to_string(i) + ", negative", range);
    }
    if (i < static_cast<int64_t>(low) ||
        (static_cast<uint64_t>(i) > static_cast<uint64_t>(high) && i >= 0)) {
      trace_fail(where, field + " is " + std::to_string(i) + ", out of range", range);
    }
    return static_cast<T>(i);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && d >= static_cast<double>(low) &&
        d <= static_cast<double>(high)) {
      return static_cast<T>(d);
    }
    trace_fail(where, field + " is " + v.dump() + ", not a whole number in range", range);
  }
  trace_fail(where, field + " is " + std::string(v.type_name()) + ", not a number", range);
}

}  // namespace

TraceRow parse_trace_row(std::string_view line, const std::string& where) {
  json row;
  try {
    row = json::parse(line);
  } catch (const json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 7: ..." -> from "column".
    if (const size_t at = what.find("column"); at != std::string::npos) what = what.substr(at);
    trace_fail(where, "not valid JSON (" + what + ")", "each line is one JSON object");
  }
  if (!row.is_object())
    trace_fail(where, "the line is a JSON " + std::string(row.type_name()),
               "each line must be one JSON object, e.g. {\"prompt_len\": 128}");
  return trace_row_of(row, where);
}

TraceRow trace_row_of(const nlohmann::json& row, const std::string& where) {
  for (const auto& [key, value] : row.items()) {
    if (std::find(kFields.begin(), kFields.end(), key) != kFields.end()) continue;
    std::string fix = "the fields are arrival_s, prompt or prompt_len, max_tokens, tenant, "
                      "priority, conversation, turn, prefix_group, prefix_len";
    if (auto close = host::closest_match(key, kFields)) fix = "did you mean \"" + *close + "\"?";
    trace_fail(where, "unknown field \"" + key + "\"", fix);
  }

  TraceRow r;
  if (const auto it = row.find("arrival_s"); it != row.end()) {
    if (!it->is_number()) {
      trace_fail(where, "\"arrival_s\" is " + std::string(it->type_name()) + ", not a number",
                 "give seconds from the trace's start, e.g. 0.25");
    }
    r.arrival_s = it->get<double>();
    if (!(r.arrival_s >= 0 && r.arrival_s <= kMaxTraceArrivalS)) {
      trace_fail(where, "\"arrival_s\" is " + it->dump() + ", outside 0 to 30 days",
                 "give seconds from the trace's start, e.g. 0.25");
    }
  }
  constexpr int32_t kI32 = std::numeric_limits<int32_t>::max();
  constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
  if (row.contains("max_tokens") && row.contains("output_len")) {
    trace_fail(where, "both \"max_tokens\" and \"output_len\" are given", "keep one of them");
  }
  const int32_t out_len = whole<int32_t>(row, "output_len", 16, 1, kI32, where);
  r.max_tokens = whole<int32_t>(row, "max_tokens", out_len, 1, kI32, where);
  r.tenant = whole<int32_t>(row, "tenant", 0, 0, kI32, where);
  r.priority = whole<int32_t>(row, "priority", 0, kMin32, kI32, where);
  r.turn = whole<int32_t>(row, "turn", 0, 0, kI32, where);
  constexpr uint64_t kU64 = std::numeric_limits<uint64_t>::max();
  r.conversation = whole<uint64_t>(row, "conversation", 0, 0, kU64, where);
  r.prefix_group = whole<uint64_t>(row, "prefix_group", 0, 0, kU64, where);

  const bool text = row.contains("prompt"), length = row.contains("prompt_len");
  if (text == length) {
    trace_fail(where,
               text ? "both \"prompt\" and \"prompt_len\" are given"
                    : "the row has no \"prompt\" (text) or \"prompt_len\" (tokens)",
               "give one of them");
  }
  if (text) {
    const json& p = row.at("prompt");
    if (!p.is_string()) {
      trace_fail(where, "\"prompt\" is " + std::string(p.type_name()) + ", not a string",
                 "give the prompt's text, or \"prompt_len\" in tokens");
    }
    r.prompt = p.get<std::string>();
  } else {
    r.prompt_len = whole<int32_t>(row, "prompt_len", 1, 1, kMaxTracePromptTokens, where);
  }
  r.prefix_len = whole<int32_t>(row, "prefix_len", 0, 0, kMaxTracePromptTokens, where);
  if (!text && r.prefix_len > r.prompt_len) {
    trace_fail(where,
               "\"prefix_len\" " + std::to_string(r.prefix_len) +
                   " is longer than "
                   "\"prompt_len\" " +
                   std::to_string(r.prompt_len),
               "make prefix_len at most prompt_len");
  }
  return r;
}

TraceLines::TraceLines(const std::filesystem::path& file) : in_(file) {
  if (!in_) throw TraceError(file.string() + ": cannot open the trace file");
}

bool TraceLines::next(std::string& line, int& line_no) {
  while (std::getline(in_, line)) {
    ++line_no_;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    line_no = line_no_;
    return true;
  }
  return false;
}

TraceCheck check_trace_file(const std::filesystem::path& file, int32_t context,
                            size_t max_errors) {
  TraceCheck out;
  TraceLines lines(file);
  TraceParser parser(file);
  std::string line;
  int line_no = 0;
  const std::string prefix = file.string() + ":";
  TraceRow r;
  while (lines.next(line, line_no)) {
    const std::string where = prefix + std::to_string(line_no) + ": ";
    const bool header = parser.expects_header();
    try {
      if (!parser.parse(line, where, r)) continue;
      ++out.rows;
      if (!r.prompt && r.prompt_len > out.longest_prompt) {
        out.longest_prompt = r.prompt_len;
        out.longest_prompt_line = line_no;
      }
      if (context > 0 && !r.prompt &&
          static_cast<int64_t>(r.prompt_len) + r.max_tokens > context) {
        if (out.over_context++ == 0) out.first_over_context_line = line_no;
      }
    } catch (const TraceError& e) {
      if (!header) ++out.rows;
      if (out.error_count++ < max_errors) {
        out.errors.push_back({line_no, std::string(e.what()).substr(where.size())});
      }
    }
  }
  return out;
}

}  // namespace bricks::manifest
