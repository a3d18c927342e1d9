// SSDs the sim device models below host memory, for weights and KV that fit in neither GPU
// nor host memory: sequential rates and the latency of one request. Each is an SsdPreset
// file (core/proto/sim_presets.proto); the shipped ones, with the source of every number,
// are core/sim/presets/ssds/*.textproto.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bricks::sim {

struct SsdSpec {
  std::string name;              // preset name, e.g. "nvme-gen4"
  double read_bytes_per_s = 0;   // sequential read
  double write_bytes_per_s = 0;  // sequential write
  double latency_s = 0;          // one read or write request
  double price_per_tb = 0;       // USD per TB; 0 = not given
};

// Every shipped preset, in the order of kSsdPresetNames.
const std::vector<SsdSpec>& ssd_presets();

// The SSD an SsdPreset text describes. Throws SimError "<file>:<line>: ..." naming the field
// and the fix for a syntax error, an unknown field, a missing field or one not above 0.
SsdSpec parse_ssd_preset(const std::string& text, const std::string& file);

// A shipped preset by name, or an SsdPreset file (a relative path against `base`, the
// manifest's directory). Throws SimError as find_preset and parse_ssd_preset do.
SsdSpec load_ssd(const std::string& name_or_path, const std::filesystem::path& base);

}  // namespace bricks::sim
