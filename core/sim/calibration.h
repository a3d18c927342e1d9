// Measured step times that replace the roofline: a CSV profile of one (GPU, model,
// tensor-parallel) setup, looked up by the step's shape.
//
// The file: '#' starts a comment line; blank lines are skipped; the first other line is
// the header naming the four columns, in any order:
//
//   num_prefill_tokens,num_decode_seqs,decode_context_sum,seconds
//
// and every following line is one measured step (see step_shape.h for the first three;
// `seconds` is the whole step, overheads included, > 0).
//
// The rule: the rows must form a full grid, every combination of the distinct values of
// the three shape columns exactly once (rows with num_decode_seqs = 0 repeat the time for
// each decode_context_sum). A step's time is the trilinear interpolation between the grid
// values around its shape. Past the last grid value of a column the time is extrapolated
// linearly from the last two; below the first it is held at the first. A column with a
// single value does not affect the time. Results are never below zero.
//
// Thread safety: immutable after load; lookups are safe from any thread.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "sim/step_shape.h"

namespace bricks::sim {

class CalibrationTable {
 public:
  // Reads and checks `file`. Throws SimError "file:line: what is wrong; the fix".
  static CalibrationTable load(const std::filesystem::path& file);
  // The same from text; `source` names it in errors and in describe().
  static CalibrationTable parse(std::string_view text, const std::string& source);

  double seconds(const StepShape& shape) const;
  const std::string& source() const { return source_; }
  size_t num_rows() const { return values_.size(); }
  // The distinct values of column `axis` (0 prefill tokens, 1 decode seqs, 2 context sum).
  const std::vector<double>& axis(int axis) const { return axes_[axis]; }

 private:
  std::string source_;
  std::array<std::vector<double>, 3> axes_;
  std::vector<double> values_;  // [i0][i1][i2] over the axes, row-major
};

}  // namespace bricks::sim
