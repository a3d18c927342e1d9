// The pruning points of the forward pass: after a pruning layer, the prompt tokens of each
// request whose prompt completes in this step are scored and the pruner's keep set
// compacts the batch; at the first layer of each later KV group, room is made in that group
// and its page table is built and planned.
//
// Chunked prefills. A pruner needs the whole prompt, so a chunk of a prompt with images
// that does not complete it stops at the first pruning point: its layer outputs (and that
// layer's q, k and the text attention its rows gave) go to the request's stash, and it
// holds nothing in later groups. The chunk that completes the prompt is pruned over the
// stash plus its own rows, and the kept rows of the whole prompt go on through the later
// layers in that step. The text_scores a pruner sees are then exactly those of an
// unchunked prefill: rows of earlier chunks could only attend to earlier tokens.
//
// What a pruner sees per request: the prompt tokens visible at the layer (all of them at
// the first point; the kept ones at later points), prunable = image patches except the
// request's last token (it is sampled from, so it is always kept), grid_xy of each patch
// in its image, text_scores from the attention brick (query rows: the tokens after the
// last prunable one), self_scores when the brick asked for them (computed here from the
// layer's q and k: per head a softmax over the prunable tokens, then the head mean), and
// the layer's output rows.
//
// Thread safety: one thread (the engine's) drives a stage.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bricks/abi.h"
#include "bricks/model/model.h"
#include "engine/forward_batch.h"
#include "engine/kv_groups.h"
#include "host/registry.h"

namespace bricks::engine {

// A pruning brick attached after one layer.
struct PrunePoint {
  int32_t layer = 0;
  const host::BrickInstance* brick = nullptr;
  // The brick declares a bool param `self_scores` set true: it wants attention among the
  // prunable tokens (P x P per request, computed only then).
  bool self_scores = false;
};

class PruneStage {
 public:
  // Plans the attention brick for the batch's rows over a group's table.
  using Planner =
      std::function<void(const std::vector<int32_t>& qo_indptr, const bricks_page_table& table)>;

  // `points` must match layout.prune_after layer for layer; the bricks must outlive this.
  PruneStage(const model::LlamaConfig& config, KvGroupLayout layout,
             std::vector<PrunePoint> points);

  const KvGroupLayout& layout() const { return layout_; }
  void set_groups(KvGroups* groups) { groups_ = groups; }
  void set_planner(Planner planner) { planner_ = std::move(planner); }

  // Starts a step over the engine's batch and its group-0 table. The returned batch is the
  // one the layers compute until the next call below changes it.
  const ForwardBatch& begin(const ForwardBatch& batch, const bricks_page_table& table);
  // Score buffers for the attention of `layer`: both null unless a pruner acts after it
  // for some sequence of the batch.
  void scores_for(int32_t layer, const uint8_t** score_rows, float** scores);
  // After the attention of a pruning layer: its q [rows][q_dim] and k [rows][kv_dim].
  void after_attention(int32_t layer, const float* q, const float* k);
  // After a pruning layer: stashes or prunes, and compacts `x` ([rows][hidden]) to the
  // rows the next layers compute.
  const ForwardBatch& prune(int32_t layer, std::vector<float>& x);
  // Before the first layer of a KV group >= 1: makes room and plans. A sequence without
  // room leaves the batch (and `x`); KvGroups::failure says why.
  const ForwardBatch& open_group(int32_t layer, std::vector<float>& x);
  // For each logit row of the current batch, its index among the engine's logit rows.
  const std::vector<int32_t>& logit_index() const { return logit_index_; }

 private:
  // Rows of current sequence i kept for the next layers, and their source rows.
  struct NextRows {
    std::vector<int32_t> positions;
    std::vector<const float*> hidden;
  };
  const PrunePoint& point_at(int32_t layer) const;
  bool acts_at(int32_t seq, int32_t layer) const;
  int32_t last_prunable(const Request& r) const;
  void stash_rows(int32_t i, const float* x);
  bool prune_seq(int32_t i, const PrunePoint& p, const float* x, NextRows& next);
  void self_scores(int32_t count, const float* q, const float* k, std::vector<float>& out);
  void rebuild(const std::vector<int32_t>& seqs, const std::vector<NextRows>& rows,
               std::vector<float>& x);
  void drop_failed(std::vector<float>& x);

  model::LlamaConfig c_;
  KvGroupLayout layout_;
  std::vector<PrunePoint> points_;
  KvGroups* groups_ = nullptr;
  Planner planner_;

  ForwardBatch cur_;                  // the rows the layers compute now
  std::vector<int32_t> seq_;          // [cur seqs] its index in the step's batch
  std::vector<int32_t> kv_len_;       // [cur seqs] in the current group's table
  std::vector<int32_t> logit_of_;     // [step seqs] index among the logit rows, or -1
  std::vector<int32_t> logit_index_;  // [cur logit rows]
  std::vector<uint8_t> score_rows_;
  std::vector<float> scores_;
  std::vector<float> q_, k_;  // the pruning layer's q and k rows
  std::vector<float> x_next_;
  // select() inputs, reused.
  std::vector<uint8_t> prunable_;
  std::vector<int32_t> grid_xy_;
  std::vector<float> text_, self_, hidden_, vq_, vk_, probs_;
  std::vector<int32_t> group_rows_, group_seqs_;
};

}  // namespace bricks::engine
