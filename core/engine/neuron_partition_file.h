// A partition of every dense FFN's neurons into clusters, found by calibration
// (neuron_calibrate.h) and kept beside the model as <model file>.partition.
//
// File layout (little-endian, version 1):
//   char[8]  "BRKNPART"
//   u32      version (1)
//   u64      model checksum (model_checksum: every tensor's name, shape and bytes)
//   u32      n_layers, ffn, clusters
//   u32      calibration tokens per layer, f32 calibration active share
//   per layer: i32 order[ffn] (neuron ids, cluster by cluster), i32 offsets[clusters + 1]
//   u64      FNV-1a of every byte before it
// A file made for other weights, another version or with a bad checksum is refused with
// a message that names the file and the command that remakes it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "bricks/model/model.h"

namespace bricks::engine {

class PartitionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One layer's clusters: cluster c holds neurons order[offsets[c]] .. order[offsets[c+1]-1].
struct LayerPartition {
  std::vector<int32_t> order;    // [ffn], a permutation of 0..ffn-1
  std::vector<int32_t> offsets;  // [clusters + 1], offsets[0] = 0, offsets[clusters] = ffn
};

struct NeuronPartition {
  uint64_t model_checksum = 0;
  int32_t ffn = 0;
  int32_t clusters = 0;
  int32_t calibration_tokens = 0;   // tokens per layer the clustering saw
  float calibration_share = 0.0f;   // share of neurons counted active per token
  std::vector<LayerPartition> layers;

  // Throws PartitionError naming `where` when a layer is not a permutation with
  // well-formed offsets.
  void check(const std::string& where) const;
};

inline constexpr uint32_t kPartitionVersion = 1;

// Where the partition of the model at `model_path` is kept: <model_path>.partition.
std::filesystem::path partition_path_for(const std::filesystem::path& model_path);

// A 64-bit checksum of the model's weights (tensor names, shapes and bytes), so a
// partition made for other weights is never used. Reads every weight byte once.
uint64_t model_checksum(const model::Model& m);

// Throws PartitionError when the file cannot be written.
void save_partition(const NeuronPartition& p, const std::filesystem::path& file);

// Reads and checks a partition for `m` (checksum `checksum`, from model_checksum(m)).
// Throws PartitionError with the file, the problem and the fix.
NeuronPartition load_partition(const std::filesystem::path& file, const model::Model& m,
                               uint64_t checksum);

}  // namespace bricks::engine
