// Request traces, checked row by row: the one reader both `bricks validate` and the
// runtime use, so a trace that validates is one that runs. Two formats:
//
// JSONL (one JSON object per line), the default.
//
// Fields: "arrival_s" (seconds, finite, 0 to 30 days), "prompt" (text) or "prompt_len"
// (tokens, 1 to 2^20), "max_tokens" or "output_len" (1 to 2^31-1, default 16), "tenant",
// "priority", "turn" (32-bit), "conversation", "prefix_group" (unsigned 64-bit),
// "prefix_len" (tokens). Integers must be whole numbers within their type: a 64-bit value is
// never cut to 32 bits, and an unknown field is an error (a misspelt field would otherwise
// leave its default in place without a word).
//
// CSV (a file whose name ends in .csv): a header line naming the columns, then one request
// per line, cells separated by commas (no quoting). The columns are the JSONL fields that
// are numbers (arrival_s, prompt_len, max_tokens or output_len, tenant, priority, turn,
// conversation, prefix_group, prefix_len), or the Azure LLM inference trace's
// TIMESTAMP, ContextTokens and GeneratedTokens (read as arrival, prompt_len and
// max_tokens; TIMESTAMP is "YYYY-MM-DD HH:MM:SS.fraction", and arrivals are counted from
// the first row's). Every cell goes through the same checks as a JSONL field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bricks::manifest {

class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws TraceError "<where><what>; <fix>".
[[noreturn]] void trace_fail(const std::string& where, const std::string& what,
                             const std::string& fix);

struct TraceRow {
  double arrival_s = 0;
  std::optional<std::string> prompt;  // text; else prompt_len tokens
  int32_t prompt_len = 0;
  int32_t prefix_len = 0;
  int32_t max_tokens = 16;
  int32_t tenant = 0, priority = 0, turn = 0;
  uint64_t conversation = 0, prefix_group = 0;
};

// Longest length-only prompt a row may ask for: far past any model's context, and small
// enough that drawing it cannot exhaust memory.
inline constexpr int32_t kMaxTracePromptTokens = 1 << 20;
// Latest arrival a row may ask for: a trace replays at most this long.
inline constexpr double kMaxTraceArrivalS = 30.0 * 24 * 3600;

// Parses and checks one line. `where` ("file:12: ") starts every message. Throws TraceError
// with the field, what is wrong and the fix.
TraceRow parse_trace_row(std::string_view line, const std::string& where);
// The row of a parsed JSON object (what a JSONL line or a CSV row becomes).
TraceRow trace_row_of(const nlohmann::json& row, const std::string& where);

// Turns a trace file's lines into rows, in its format (CSV by the .csv name, else JSONL).
// Lines must come in order: a CSV's first line is its header.
class TraceParser {
 public:
  explicit TraceParser(const std::filesystem::path& file);
  // The row of one non-blank line into `out`; false for the CSV header line (nothing to
  // run). Throws TraceError starting with `where`.
  bool parse(std::string_view line, const std::string& where, TraceRow& out);
  bool csv() const { return csv_; }
  // True until a CSV's header line has been given to parse().
  bool expects_header() const { return csv_ && !header_seen_; }

 private:
  void parse_header(std::string_view line, const std::string& where);
  TraceRow parse_csv_row(std::string_view line, const std::string& where);

  bool csv_ = false;
  bool header_seen_ = false;
  bool header_bad_ = false;  // its error was thrown once; the rows are not read
  std::vector<std::string> columns_;  // CSV: the JSONL field of each column ("" = TIMESTAMP)
  std::vector<std::string> names_;    // and its name in the header
  std::optional<double> first_timestamp_s_;
};

// Reads `file` row by row, calling `on_row(row, line_number)` for each non-blank line.
// Throws TraceError at the first bad row (or when the file cannot be read).
template <typename OnRow>
void read_trace_rows(const std::filesystem::path& file, OnRow&& on_row);

// Every problem of a trace file for `bricks validate`: errors with their line, and the
// rows whose prompt and max_tokens cannot fit `context` (0: unknown; those requests would
// fail alone at run time, so they are counted rather than refused).
struct TraceCheck {
  struct Problem {
    int line = 0;
    std::string message;  // without the "file:line: " place
  };
  size_t rows = 0;
  std::vector<Problem> errors;  // the first few
  size_t error_count = 0;
  size_t over_context = 0;
  int first_over_context_line = 0;
  int32_t longest_prompt = 0;  // of the rows that give prompt_len (text prompts not counted)
  int longest_prompt_line = 0;
};
TraceCheck check_trace_file(const std::filesystem::path& file, int32_t context,
                            size_t max_errors = 10);

// Lines of `file`, for read_trace_rows; throws TraceError when it cannot be opened.
class TraceLines {
 public:
  explicit TraceLines(const std::filesystem::path& file);
  // The next non-blank line and its number; false at the end.
  bool next(std::string& line, int& line_no);

 private:
  std::ifstream in_;
  int line_no_ = 0;
};

template <typename OnRow>
void read_trace_rows(const std::filesystem::path& file, OnRow&& on_row) {
  TraceLines lines(file);
  TraceParser parser(file);
  std::string line;
  int line_no = 0;
  TraceRow row;
  while (lines.next(line, line_no)) {
    if (parser.parse(line, file.string() + ":" + std::to_string(line_no) + ": ", row)) {
      on_row(row, line_no);
    }
  }
  if (parser.csv() && line_no == 0) {
    throw TraceError(file.string() + ": the CSV trace has no header line; give one, e.g. "
                     "TIMESTAMP,ContextTokens,GeneratedTokens");
  }
}

}  // namespace bricks::manifest
