// Where the weights of a model larger than its memory budget live: which layers stay
// resident and which are read from the model file ahead of use into a ring of buffers, as
// Fuyou decides what lives on the GPU, in host memory and on the SSD from measured rates.
//
// The rule, for a decode step that reads every weight once:
//  - Everything that is not a layer's matrix (embeddings, the output head, norms) stays.
//  - The ring holds two buffers of the largest layer. Two are enough for the disk never to
//    wait on compute: while layer s_i computes from one buffer, s_{i+1} is read into the
//    other; if the disk is the slower (read r > compute c of what lies between two streamed
//    layers), s_i's buffer is free again (after c) before s_{i+1}'s read ends (after r),
//    so the disk reads back to back; if compute is the slower, the reads are ahead anyway. A
//    third buffer would only take the room of a layer that could have stayed resident, and
//    every resident layer is a read saved per step.
//  - As many whole layers stay resident as fit in what is left of the budget.
//  - The streamed layers are spread evenly over the depth, not packed at one end: a run of
//    resident layers longer than the two buffers cover leaves the disk idle while it
//    computes (packed at the end, a step costs resident compute + streamed reads instead of
//    the larger of the two).
//
// A step then takes about max(streamed bytes / disk rate, all bytes / memory rate); the plan
// states both from the rates it was given (measured at start, weight_stream.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bricks::engine {

struct WeightPlanInput {
  int64_t budget_bytes = 0;          // device.weight_memory_bytes; <= 0: no limit
  int64_t fixed_bytes = 0;           // always resident: embeddings, output head, norms
  std::vector<int64_t> layer_bytes;  // per layer, the bytes a buffer needs to hold its matrices
  double disk_bytes_per_s = 0;       // sequential read rate of the model file (0: unknown)
  double compute_bytes_per_s = 0;    // weight bytes the compute reads per second (0: unknown)
};

struct WeightPlan {
  std::vector<bool> streamed;  // [layer]: read from the file every step
  int32_t ring_slots = 0;      // buffers the streamed layers are read into (0: none streamed)
  int64_t slot_bytes = 0;      // bytes of one buffer
  int64_t resident_bytes = 0;  // fixed + resident layers + the ring
  int64_t total_bytes = 0;     // fixed + every layer
  int64_t streamed_bytes = 0;  // read from the file per step
  double disk_bytes_per_s = 0, compute_bytes_per_s = 0;  // the rates planned with

  int32_t num_streamed() const;
  // Seconds per decode step, predicted: the reads, the compute, and the step (the larger of
  // the two, reads overlapped with compute). 0 where a rate is unknown.
  double read_s() const;
  double compute_s() const;
  double step_s() const;
  // One line for reports: "15 of 22 layers read from disk per step through 2 buffers of
  // 84.0 MiB; resident 1.06 GB of 2.20 GB; disk 1.55 GB/s, compute 10.0 GB/s: 1.17 decode
  // steps/s (disk-bound)" (the prediction where the rates are known).
  std::string describe() const;
};

// Throws std::invalid_argument, with the sizes and the fix, when the budget cannot hold the
// fixed bytes and two buffers.
WeightPlan plan_weights(const WeightPlanInput& in);

}  // namespace bricks::engine
