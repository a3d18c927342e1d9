// Per-request LoRA adapters on the cpu device: the projection hook that maps the rows of
// a batch to the adapter each request names and has the adapter brick add the low-rank
// updates, once per projection, for every adapter present at once.
//
// Thread safety: used by the one thread that drives the engine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bricks/abi.h"
#include "bricks/model/model.h"
#include "engine/adapter_rule.h"
#include "engine/llama_forward.h"
#include "host/registry.h"

namespace bricks::engine {

class AdapterHook {
 public:
  // Configures `brick` (an adapter brick, which must outlive the hook) for `config` and
  // loads every adapter; `rule` picks the adapter of requests that name none. Throws
  // host::BrickError naming the adapter and its file when the brick refuses one,
  // std::invalid_argument for a duplicate or empty name.
  AdapterHook(const host::BrickInstance& brick, const model::LlamaConfig& config,
              const std::vector<AdapterSpec>& adapters, AdapterRule rule = {});

  // The projection hook body (see ProjectionHook). Rows of requests without an adapter are
  // left alone; when no request of the batch has one the brick is not called. Throws
  // std::invalid_argument for a request naming an adapter that is not loaded.
  void operator()(const ForwardBatch& batch, int32_t layer, Proj p, const float* x, int64_t rows,
                  float* y);

  // Wraps a shared hook as the forward pass's ProjectionHook.
  static ProjectionHook as_projection_hook(std::shared_ptr<AdapterHook> hook);

  bool has(const std::string& name) const { return handles_.count(name) != 0; }
  const std::vector<std::string>& names() const { return names_; }
  // What the brick reports of adapter `name` (must be loaded).
  bricks_adapter_info info(const std::string& name) const;
  // One line: "a (gguf, rank 8, q,v), b (peft, rank 16, q,k,v,o)".
  std::string summary() const;
  // Throws std::invalid_argument naming the first adapter that changes a projection in
  // `mask` (bits 1u << bricks_proj), with `why` those projections do not run.
  void refuse_targets(uint32_t mask, const std::string& why) const;

 private:
  void build_segments(const ForwardBatch& batch, int64_t rows);

  const bricks_adapter_vtable* vt_;
  void* inst_;
  std::string label_;
  model::LlamaConfig config_;
  AdapterRule rule_;
  std::unordered_map<std::string, int32_t> handles_;
  std::vector<std::string> names_;
  // Segments of the batch being computed (rebuilt at layer 0's first projection and when
  // the forward pass moves to another batch object).
  const ForwardBatch* segments_of_ = nullptr;
  std::vector<int32_t> seg_indptr_{0}, seg_adapter_;
  bool any_adapter_ = false;
};

}  // namespace bricks::engine
