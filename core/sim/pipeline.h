// Pipeline parallelism in the sim cost model: an instance's decoder layers split into
// stages, each stage a tensor-parallel group of GPUs holding a contiguous range of layers,
// and every token's activations crossing each boundary between two stages over a link.
//
// A step's batch is split into M micro-batches (contiguous runs of its sequences with
// about equal tokens; M = min(micro_batches, sequences)). With L layers, L_s of them in
// stage s, and T_m the tokens of micro-batch m:
//
//   stage compute  c[s][m] = L_s / L * (linear + attention + comm)(m) + L_s * layer_overhead
//                  (+ lm_head(m) on the last stage): the terms of micro-batch m on one GPU
//                  group (cost_model.h), each proportional to the layers, cut to the
//                  stage's share.
//   transfer       x[s][m] = link_latency_s + T_m * hidden * 2 bytes / link_bytes_per_s,
//                  from stage s to stage s + 1 (none after the last stage). The sending
//                  stage waits for it before its next micro-batch (a blocking send, as
//                  NCCL's point-to-point sends on the compute stream are), so stage s is
//                  busy t[s][m] = c[s][m] + x[s][m] per micro-batch.
//   step           step_overhead_s + max(fill, bottleneck), where
//                    fill       = max_m sum_s t[s][m]   one micro-batch through every stage
//                    bottleneck = max_s sum_m t[s][m]   the busiest stage, serving all
//   bubbles        stage s idles for (step - step_overhead_s) - sum_m t[s][m]; with one
//                  micro-batch and S equal stages, (S - 1) / S of the time.
//
// Why max(fill, bottleneck) rather than GPipe's fill + (M - 1) * bottleneck: an inference
// engine keeps one micro-batch in flight per stage across steps (vLLM's pipeline-parallel
// "virtual engines"), so the pipeline fills once, not once per step. In that steady state a
// step of M equal micro-batches takes exactly the larger of the two bounds: a micro-batch
// cannot come round faster than its own trip (each sequence needs its previous token), nor
// can the busiest stage serve all M faster than their summed times. With unequal
// micro-batches it is the same pair of lower bounds, taken as the step.
//
// Thread safety: free functions without state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sim/step_shape.h"

namespace bricks::sim {

// One stage of a pipeline: how many consecutive layers it holds and the link from it to
// the next stage (unused on the last stage).
struct PipelineStage {
  int32_t layers = 0;
  double link_bytes_per_s = 0;  // what a transfer sustains: nominal bandwidth x efficiency
  double link_latency_s = 0;    // per transfer

  bool operator==(const PipelineStage&) const = default;
};

// `layers` split over `stages` as evenly as possible, the first stages taking one more when
// it does not divide (Megatron's uniform partition). Requires 1 <= stages <= layers.
std::vector<int32_t> even_layers(int32_t layers, int32_t stages);

// The step's pipeline time from t[m][s], micro-batch m's time on stage s (its compute and
// its send): max(fill, bottleneck) as above. 0 for no micro-batches.
double pipeline_seconds(const std::vector<std::vector<double>>& t);

// Where the micro-batches of `seqs` begin: at most `parts` contiguous groups, none empty,
// each taking sequences while that brings its tokens nearer to an equal share of what is
// left. Returns the start of every group followed by seqs.size() ({0} for no sequences).
std::vector<size_t> split_micro_batches(std::span<const SeqWork> seqs, int32_t parts);

}  // namespace bricks::sim
