#include "sim/calibration.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "sim/sim_error.h"

namespace bricks::sim {

namespace {

constexpr std::array<std::string_view, 4> kColumns = {"num_prefill_tokens", "num_decode_seqs",
                                                      "decode_context_sum", "seconds"};

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    out.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string column_list() {
  std::string s;
  for (std::string_view c : kColumns) s += (s.empty() ? "" : ",") + std::string(c);
  return s;
}

// Where a row came from, for errors.
struct Row {
  std::array<double, 4> v{};
  int line = 0;
};

// The bracketing grid index and weight of `x` on a sorted axis: the time is
// (1 - t) * at[i] + t * at[i + 1]; t > 1 extrapolates past the last value.
struct Bracket {
  size_t i = 0;
  double t = 0;
};

Bracket bracket(const std::vector<double>& axis, double x) {
  if (axis.size() == 1 || x <= axis.front()) return {0, 0.0};
  size_t i = static_cast<size_t>(std::upper_bound(axis.begin(), axis.end(), x) - axis.begin());
  i = std::min(i, axis.size() - 1) - 1;
  return {i, (x - axis[i]) / (axis[i + 1] - axis[i])};
}

}  // namespace

CalibrationTable CalibrationTable::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw SimError(file.string() +
                   ": cannot read the calibration file; check the path "
                   "(relative to the manifest's directory)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string());
}

CalibrationTable CalibrationTable::parse(std::string_view text, const std::string& source) {
  auto fail = [&source](int line, const std::string& what) {
    throw SimError(source + ":" + std::to_string(line) + ": " + what);
  };
  std::array<int, 4> column_of{-1, -1, -1, -1};  // file column of each of kColumns
  bool have_header = false;
  std::vector<Row> rows;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line =
        trim(text.substr(pos, nl == std::string_view::npos ? nl : nl - pos));
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const std::vector<std::string_view> fields = split(line);
    if (!have_header) {
      if (fields.size() != kColumns.size()) {
        fail(line_no, "the header has " + std::to_string(fields.size()) +
                          " columns; it must name exactly " + column_list());
      }
      for (size_t f = 0; f < fields.size(); ++f) {
        const auto it = std::find(kColumns.begin(), kColumns.end(), fields[f]);
        if (it == kColumns.end()) {
          fail(line_no,
               "unknown column '" + std::string(fields[f]) + "'; the columns are " + column_list());
        }
        const auto c = static_cast<size_t>(it - kColumns.begin());
        if (column_of[c] >= 0)
          fail(line_no, "column '" + std::string(fields[f]) + "' appears twice");
        column_of[c] = static_cast<int>(f);
      }
      have_header = true;
      continue;
    }
    if (fields.size() != kColumns.size()) {
      fail(line_no, "expected " + std::to_string(kColumns.size()) + " values (" + column_list() +
                        "), found " + std::to_string(fields.size()));
    }
    Row row;
    row.line = line_no;
    for (size_t c = 0; c < kColumns.size(); ++c) {
      const std::string_view f = fields[static_cast<size_t>(column_of[c])];
      double v = 0;
      const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
      if (f.empty() || ec != std::errc() || end != f.data() + f.size() || !std::isfinite(v)) {
        fail(line_no, std::string(kColumns[c]) + " '" + std::string(f) + "' is not a number");
      }
      if (v < 0 || (c == 3 && v <= 0)) {
        fail(line_no, std::string(kColumns[c]) + " is " + std::string(f) + "; it must be " +
                          (c == 3 ? "> 0" : ">= 0"));
      }
      row.v[c] = v;
    }
    rows.push_back(row);
  }
  if (!have_header) {
    throw SimError(source + ": no header line; the first line must be " + column_list());
  }
  if (rows.empty()) {
    throw SimError(source + ": no rows after the header; give at least one measured step");
  }

  CalibrationTable t;
  t.source_ = source;
  for (int a = 0; a < 3; ++a) {
    auto& axis = t.axes_[static_cast<size_t>(a)];
    for (const Row& r : rows) axis.push_back(r.v[static_cast<size_t>(a)]);
    std::sort(axis.begin(), axis.end());
    axis.erase(std::unique(axis.begin(), axis.end()), axis.end());
  }
  const size_t n1 = t.axes_[1].size(), n2 = t.axes_[2].size();
  auto index_of = [&t](size_t a, double v) {
    return static_cast<size_t>(std::lower_bound(t.axes_[a].begin(), t.axes_[a].end(), v) -
                               t.axes_[a].begin());
  };
  std::vector<int> line_of(t.axes_[0].size() * n1 * n2, 0);
  t.values_.assign(line_of.size(), 0.0);
  for (const Row& r : rows) {
    const size_t k = (index_of(0, r.v[0]) * n1 + index_of(1, r.v[1])) * n2 + index_of(2, r.v[2]);
    if (line_of[k] != 0) {
      fail(r.line,
           "the same shape as line " + std::to_string(line_of[k]) +
               "; give each (num_prefill_tokens, num_decode_seqs, decode_context_sum) once");
    }
    line_of[k] = r.line;
    t.values_[k] = r.v[3];
  }
  for (size_t k = 0; k < line_of.size(); ++k) {
    if (line_of[k] != 0) continue;
    std::ostringstream shape;
    shape << "num_prefill_tokens=" << t.axes_[0][k / (n1 * n2)]
          << ", num_decode_seqs=" << t.axes_[1][(k / n2) % n1]
          << ", decode_context_sum=" << t.axes_[2][k % n2];
    throw SimError(source + ": the rows do not form a full grid: no row for " + shape.str() +
                   "; add it (every combination of the values used in each column is needed)");
  }
  return t;
}

double CalibrationTable::seconds(const StepShape& shape) const {
  const std::array<double, 3> x{static_cast<double>(shape.prefill_tokens),
                                static_cast<double>(shape.decode_seqs),
                                static_cast<double>(shape.decode_context_sum)};
  std::array<Bracket, 3> b;
  for (size_t a = 0; a < 3; ++a) b[a] = bracket(axes_[a], x[a]);
  const size_t n1 = axes_[1].size(), n2 = axes_[2].size();
  double sum = 0;
  for (int corner = 0; corner < 8; ++corner) {
    double w = 1.0;
    std::array<size_t, 3> at{};
    for (size_t a = 0; a < 3; ++a) {
      const bool upper = (corner >> a) & 1;
      if (axes_[a].size() == 1) {
        if (upper) w = 0.0;
        at[a] = 0;
        continue;
      }
      w *= upper ? b[a].t : 1.0 - b[a].t;
      at[a] = b[a].i + (upper ? 1 : 0);
    }
    if (w != 0.0) sum += w * values_[(at[0] * n1 + at[1]) * n2 + at[2]];
  }
  return std::max(0.0, sum);
}

}  // namespace bricks::sim
