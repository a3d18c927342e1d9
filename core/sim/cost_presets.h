// Cost presets: the cost model's constants (CostConstants) as text-format files, the
// CostPreset message of core/proto/sim_presets.proto, and back to text for the fitter.
#pragma once

#include <filesystem>
#include <string>

#include "sim/cost_model.h"

namespace bricks::sim {

// The constants a CostPreset text sets, the generic defaults for the fields it leaves out.
// Throws SimError "<file>:<line>: cost preset field <f>: <what>; <fix>" for a syntax error,
// an unknown field or a value out of its range.
CostConstants parse_cost_preset(const std::string& text, const std::string& file);

// The constants of a run on the GPU named `gpu_name`: `name_or_path` when given (a shipped
// cost preset by name, or a CostPreset file, a relative path against `base`), else the
// shipped preset named after the GPU where there is one (constants fitted to measurements
// of it), else the generic defaults. Throws SimError as find_preset and parse_cost_preset do.
CostConstants load_cost_constants(const std::string& name_or_path,
                                  const std::filesystem::path& base, const std::string& gpu_name);

// `k` as CostPreset text, every field written, after `header` (each line a # comment).
std::string format_cost_preset(const CostConstants& k, const std::string& header);

}  // namespace bricks::sim
