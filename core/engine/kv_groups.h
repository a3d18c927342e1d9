// KV groups: where each layer's K/V lives when pruning points split the model's layers.
//
// Layers between two pruning points see different token sets, so each such *segment*
// keeps its own page tables (DESIGN.md §4). The kv brick hands out block ids for every
// group from one pool, so every physical block has one size: it stores `slabs` layers,
// slabs = the layers of segment 0 (those the scheduler reserves through group 0). A later
// segment of n layers becomes ceil(n / slabs) KV groups holding the same tokens, each
// with its own table. Layer l keeps its K/V in slab slab_of_layer[l] of the blocks its
// group's table names; the device pool is `slabs` layer pools of num_blocks blocks.
//
//   12 layers, prune after layer 2: segment 0 = layers 0..2, slabs = 3; segment 1 =
//   layers 3..11 = groups 1, 2, 3. A prompt of 600 tokens pruned to 300 holds 600 tokens
//   in group 0 and 300 in each of groups 1..3: 600*3 + 300*9 layer-tokens of KV instead
//   of 600*12. A segment whose length is not a multiple of slabs leaves the unused slabs
//   of its last group's blocks empty (at most slabs - 1 layers' worth per segment), so
//   early pruning points (FastV's K = 2) waste nothing and late ones waste some.
//
// Without pruning points: one group, slabs = layers, the unpruned layout.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bricks/abi.h"
#include "engine/request.h"
#include "host/registry.h"

namespace bricks::engine {

struct KvGroupLayout {
  int32_t num_layers = 0;
  int32_t slabs = 0;                      // layers stored per block
  std::vector<int32_t> prune_after;       // ascending layers a pruner acts after
  std::vector<int32_t> group_of_layer;    // [num_layers]
  std::vector<int32_t> slab_of_layer;     // [num_layers]
  std::vector<int32_t> first_layer;       // [groups] the group's first layer
  std::vector<int32_t> segment_of_group;  // [groups] pruning points passed before it

  // Throws std::invalid_argument for a layer outside [0, num_layers - 2] (pruning after
  // the last layer leaves nothing to compute) or a repeated layer.
  static KvGroupLayout make(int32_t num_layers, std::vector<int32_t> prune_after);

  int32_t num_groups() const { return static_cast<int32_t>(first_layer.size()); }
  bool prunes_after(int32_t layer) const;
  // True for the first layer of a group other than group 0.
  bool opens_group(int32_t layer) const {
    return layer > 0 && first_layer[static_cast<size_t>(group_of_layer[layer])] == layer;
  }
};

// What a sequence of the step does at the pruning points.
enum class PruneRole {
  kPass,   // no image, or already pruned (decode): all its rows go through every layer
  kStash,  // a prompt chunk with images that does not complete the prompt: stops at the
           // first pruning point, its rows stashed for the chunk that completes it
  kPrune,  // the chunk that completes a prompt with images: the pruners select its rows
};

// The engine's side of the KV groups: allocates and tables groups >= 1 for the forward
// pass (which calls it at each group's first layer), records what each sequence added,
// and after the step updates the requests. Group 0 stays the scheduler's.
//
// Thread safety: driven by the engine's thread (the forward pass calls it from there).
class KvGroups {
 public:
  // `kv` (the engine's kv brick) must outlive this object.
  KvGroups(KvGroupLayout layout, const host::BrickInstance& kv);

  const KvGroupLayout& layout() const { return layout_; }
  bool pruning() const { return !layout_.prune_after.empty(); }

  // A request enters the engine, or restarts from scratch (recompute preemption): it
  // holds nothing in groups >= 1 and nothing is stashed.
  void reset(Request& r) const;

  // Engine, before the forward: the step's sequences in batch order, their group-0 views
  // and the tokens each computes.
  void begin_step(std::span<Request* const> seqs, std::span<const bricks_request_view> views,
                  std::span<const int32_t> counts);
  int32_t num_seqs() const { return static_cast<int32_t>(seqs_.size()); }
  PruneRole role(int32_t seq) const { return roles_[static_cast<size_t>(seq)]; }
  Request& request(int32_t seq) { return *seqs_[static_cast<size_t>(seq)]; }

  // Forward: makes room in `group` (>= 1) for `rows` new tokens of step sequence `seq`.
  // False when the kv brick has no room: the sequence is then failed (failure() says
  // why) and must leave the batch.
  bool allocate(int32_t group, int32_t seq, int32_t rows);
  // Forward: the page table of `group` for step sequences `seqs` (each allocated with
  // `rows`) and the slots of their new rows, concatenated. Valid until the next call for
  // the same group.
  void build_table(int32_t group, std::span<const int32_t> seqs, std::span<const int32_t> rows,
                   bricks_page_table& table, std::vector<int32_t>& slots);
  // Forward: fails a sequence for another reason (the pruner refused its input).
  void fail(int32_t seq, std::string reason);
  // Empty unless the sequence failed this step.
  const std::string& failure(int32_t seq) const { return failures_[static_cast<size_t>(seq)]; }

  // Engine, after the forward: every sequence that did not fail adds its rows to its
  // groups (and commits them); a pruned prompt is marked pruned and its stash dropped.
  void end_step();

 private:
  bricks_request_view group_view(int32_t seq, int32_t group) const;

  KvGroupLayout layout_;
  const bricks_kv_vtable* vt_;
  void* kv_;
  std::string kv_name_;
  std::vector<Request*> seqs_;
  std::vector<bricks_request_view> views_;
  std::vector<PruneRole> roles_;
  std::vector<std::vector<int32_t>> added_;  // [seq][group] rows allocated this step
  std::vector<std::string> failures_;
  std::vector<bricks_kv_seq> kv_seqs_;
};

}  // namespace bricks::engine
