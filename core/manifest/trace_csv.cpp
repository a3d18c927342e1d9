// The CSV format of request traces (see trace_rows.h): a header, then one request a line.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "host/did_you_mean.h"
#include "manifest/trace_rows.h"

namespace bricks::manifest {

namespace {

using nlohmann::json;

// Columns named as the JSONL fields (numbers only: a CSV holds no prompt text).
const std::vector<std::string> kCsvFields = {
    "arrival_s", "prompt_len", "max_tokens", "output_len", "tenant", "priority",
    "turn", "conversation", "prefix_group", "prefix_len"};

// The Azure LLM inference trace's columns, and the field each one is.
struct AzureColumn {
  const char* name;
  const char* field;  // "" for TIMESTAMP, read as the arrival
};
constexpr AzureColumn kAzure[] = {
    {"TIMESTAMP", ""}, {"ContextTokens", "prompt_len"}, {"GeneratedTokens", "max_tokens"}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> cells_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    out.push_back(trim(line.substr(start, comma == std::string_view::npos ? line.npos
                                                                          : comma - start)));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

// Days from 1970-01-01 to year-month-day of the proleptic Gregorian calendar, counted in
// 400-year eras of 146,097 days whose years start in March (so the leap day ends a year).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t year_of_era = y - era * 400;
  const int64_t day_of_year = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

// "YYYY-MM-DD HH:MM:SS[.fraction]" (or a 'T' between date and time) in seconds from 1970,
// as the time zone the trace was written in; false when the cell is not such a time.
bool parse_timestamp(std::string_view cell, double* seconds) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, n = 0;
  char sep = 0;
  const std::string s(cell);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%n", &y, &mo, &d, &sep, &h, &mi, &n) != 6 ||
      (sep != ' ' && sep != 'T')) {
    return false;
  }
  const std::string rest = s.substr(static_cast<size_t>(n));
  if (rest.size() < 2 || !std::isdigit(static_cast<unsigned char>(rest[0])) ||
      !std::isdigit(static_cast<unsigned char>(rest[1]))) {
    return false;
  }
  double sec = (rest[0] - '0') * 10 + (rest[1] - '0');
  if (rest.size() > 2) {
    if (rest[2] != '.' || rest.size() == 3) return false;
    double scale = 0.1;
    for (size_t i = 3; i < rest.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(rest[i]))) return false;
      sec += (rest[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec >= 61) return false;
  *seconds = static_cast<double>(days_from_civil(y, mo, d)) * 86400.0 + h * 3600.0 + mi * 60.0 +
             sec;
  return true;
}

}  // namespace

TraceParser::TraceParser(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  csv_ = ext == ".csv";
}

bool TraceParser::parse(std::string_view line, const std::string& where, TraceRow& out) {
  if (!csv_) {
    out = parse_trace_row(line, where);
    return true;
  }
  if (!header_seen_) {
    header_seen_ = true;
    header_bad_ = true;  // until parse_header returns
    parse_header(line, where);
    header_bad_ = false;
    return false;
  }
  if (header_bad_) return false;
  out = parse_csv_row(line, where);
  return true;
}

void TraceParser::parse_header(std::string_view line, const std::string& where) {
  std::vector<std::string> all_names = kCsvFields;
  for (const AzureColumn& a : kAzure) all_names.push_back(a.name);
  for (std::string_view cell : cells_of(line)) {
    const std::string name(cell);
    const auto azure = std::find_if(std::begin(kAzure), std::end(kAzure),
                                    [&](const AzureColumn& a) { return name == a.name; });
    std::string field;
    if (azure != std::end(kAzure)) {
      field = azure->field;
    } else if (std::find(kCsvFields.begin(), kCsvFields.end(), name) != kCsvFields.end()) {
      field = name;
    } else {
      std::string fix = "the columns are the JSONL fields that are numbers (arrival_s, "
                        "prompt_len, max_tokens, ...) or TIMESTAMP, ContextTokens, "
                        "GeneratedTokens";
      if (auto close = host::closest_match(name, all_names)) fix = "did you mean " + *close + "?";
      trace_fail(where, "the CSV header names an unknown column '" + name + "'", fix);
    }
    if (std::find(columns_.begin(), columns_.end(), field) != columns_.end()) {
      trace_fail(where, "the CSV header gives " + (field.empty() ? "TIMESTAMP" : field) + " twice",
                 "keep one column for each field");
    }
    columns_.push_back(field);
    names_.push_back(name);
  }
  const auto has = [&](const char* f) {
    return std::find(columns_.begin(), columns_.end(), f) != columns_.end();
  };
  if (!has("prompt_len")) {
    trace_fail(where, "the CSV header has no prompt length column",
               "name one prompt_len (or ContextTokens, as in the Azure traces)");
  }
  if (has("") && has("arrival_s")) {
    trace_fail(where, "the CSV header gives both TIMESTAMP and arrival_s", "keep one of them");
  }
}

TraceRow TraceParser::parse_csv_row(std::string_view line, const std::string& where) {
  const std::vector<std::string_view> cells = cells_of(line);
  if (cells.size() != columns_.size()) {
    trace_fail(where,
               "the row has " + std::to_string(cells.size()) + " cells and the header " +
                   std::to_string(columns_.size()),
               "give one value for each column of the header (cells are separated by commas and "
               "cannot be quoted)");
  }
  json row = json::object();
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string cell(cells[i]);
    if (columns_[i].empty()) {
      double t = 0;
      if (!parse_timestamp(cell, &t)) {
        trace_fail(where, "TIMESTAMP '" + cell + "' is not a time",
                   "give YYYY-MM-DD HH:MM:SS with an optional fraction of a second");
      }
      if (!first_timestamp_s_) first_timestamp_s_ = t;
      const double arrival = t - *first_timestamp_s_;
      if (arrival < 0) {
        trace_fail(where, "TIMESTAMP '" + cell + "' is before the first row's",
                   "sort the rows by time");
      }
      row["arrival_s"] = arrival;
      continue;
    }
    json v = json::parse(cell, nullptr, false);
    if (v.is_discarded() || !v.is_number()) {
      trace_fail(where, names_[i] + " '" + cell + "' is not a number", "give a number");
    }
    row[columns_[i]] = std::move(v);
  }
  return trace_row_of(row, where);
}

}  // namespace bricks::manifest
