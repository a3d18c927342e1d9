#include "engine/adapter_hook.h"

#include <stdexcept>

namespace bricks::engine {

namespace {

bricks_proj to_brick_proj(Proj p) {
  switch (p) {
    case Proj::kQ:
      return BRICKS_PROJ_Q;
    case Proj::kK:
      return BRICKS_PROJ_K;
    case Proj::kV:
      return BRICKS_PROJ_V;
    case Proj::kO:
      return BRICKS_PROJ_O;
    case Proj::kGate:
      return BRICKS_PROJ_GATE;
    case Proj::kUp:
      return BRICKS_PROJ_UP;
    case Proj::kDown:
      return BRICKS_PROJ_DOWN;
  }
  return BRICKS_PROJ_COUNT_;
}

void proj_dims(const model::LlamaConfig& c, Proj p, int32_t* in, int32_t* out) {
  const int32_t q = c.n_heads * c.head_dim, kv = c.n_kv_heads * c.head_dim;
  switch (p) {
    case Proj::kQ:
      *in = c.hidden;
      *out = q;
      return;
    case Proj::kK:
    case Proj::kV:
      *in = c.hidden;
      *out = kv;
      return;
    case Proj::kO:
      *in = q;
      *out = c.hidden;
      return;
    case Proj::kGate:
    case Proj::kUp:
      *in = c.hidden;
      *out = c.ffn;
      return;
    case Proj::kDown:
      *in = c.ffn;
      *out = c.hidden;
      return;
  }
}

}  // namespace

AdapterHook::AdapterHook(const host::BrickInstance& brick, const model::LlamaConfig& config,
                         const std::vector<AdapterSpec>& adapters, AdapterRule rule)
    : vt_(brick.vtable<bricks_adapter_vtable>()),
      inst_(brick.instance()),
      label_(std::string(host::kind_name(brick.kind())) + "/" + brick.info().name),
      config_(config),
      rule_(std::move(rule)) {
  if (brick.kind() != BRICKS_KIND_ADAPTER) {
    throw std::invalid_argument(label_ + " is not an adapter brick");
  }
  bricks_adapter_base base{};
  base.struct_size = sizeof(base);
  base.num_layers = config.n_layers;
  base.hidden_dim = config.hidden;
  base.num_heads = config.n_heads;
  base.num_kv_heads = config.n_kv_heads;
  base.head_dim = config.head_dim;
  base.ffn_dim = config.ffn;
  host::check(vt_->configure(inst_, &base), label_ + " configure");
  for (const AdapterSpec& a : adapters) {
    if (a.name.empty()) throw std::invalid_argument("an adapter has no name");
    if (handles_.count(a.name) != 0) {
      throw std::invalid_argument("adapter name '" + a.name + "' is used twice");
    }
    int32_t handle = -1;
    host::check(vt_->load(inst_, a.path.c_str(), a.scale, &handle),
                label_ + " loading adapter '" + a.name + "'");
    handles_.emplace(a.name, handle);
    names_.push_back(a.name);
  }
}

bricks_adapter_info AdapterHook::info(const std::string& name) const {
  auto it = handles_.find(name);
  if (it == handles_.end()) throw std::invalid_argument("adapter '" + name + "' is not loaded");
  bricks_adapter_info out{};
  out.struct_size = sizeof(out);
  host::check(vt_->info(inst_, it->second, &out), label_ + " info");
  return out;
}

std::string AdapterHook::summary() const {
  static const char* const kShort[] = {"q", "k", "v", "o", "gate", "up", "down"};
  std::string s;
  for (const std::string& name : names_) {
    const bricks_adapter_info i = info(name);
    std::string targets;
    for (int p = 0; p < BRICKS_PROJ_COUNT_; ++p) {
      if ((i.targets & (1u << p)) != 0)
        targets += (targets.empty() ? "" : ",") + std::string(kShort[p]);
    }
    s += (s.empty() ? "" : ", ") + name + " (" + (i.format != nullptr ? i.format : "?") +
         ", rank " + std::to_string(i.rank) + ", " + targets + ")";
  }
  return s;
}

void AdapterHook::refuse_targets(uint32_t mask, const std::string& why) const {
  for (const std::string& name : names_) {
    if ((info(name).targets & mask) != 0) {
      throw std::invalid_argument("adapter '" + name + "' changes projections that " + why +
                                  "; use an adapter of the other projections only");
    }
  }
}

void AdapterHook::build_segments(const ForwardBatch& batch, int64_t rows) {
  segments_of_ = &batch;
  seg_indptr_.assign(1, 0);
  seg_adapter_.clear();
  any_adapter_ = false;
  if (static_cast<int64_t>(batch.qo_indptr.size()) != batch.num_seqs() + 1 ||
      batch.qo_indptr.back() != rows) {
    throw std::logic_error("adapter hook: the batch's qo_indptr does not cover the " +
                           std::to_string(rows) + " projection rows");
  }
  for (int32_t b = 0; b < batch.num_seqs(); ++b) {
    const Request& r = *batch.requests[static_cast<size_t>(b)];
    const std::string& name = rule_.pick(r.spec, r.id);
    int32_t handle = -1;
    if (!name.empty()) {
      auto it = handles_.find(name);
      if (it == handles_.end()) {
        throw std::invalid_argument("request " + std::to_string(r.id) + " names adapter '" + name +
                                    "', which is not loaded; model.adapters names the ones "
                                    "that are");
      }
      handle = it->second;
      any_adapter_ = true;
    }
    const int32_t end = batch.qo_indptr[static_cast<size_t>(b) + 1];
    if (!seg_adapter_.empty() && seg_adapter_.back() == handle) {
      seg_indptr_.back() = end;  // same adapter as the previous request: one segment
    } else {
      seg_adapter_.push_back(handle);
      seg_indptr_.push_back(end);
    }
  }
}

void AdapterHook::operator()(const ForwardBatch& batch, int32_t layer, Proj p, const float* x,
                             int64_t rows, float* y) {
  // Layer 0's q projection opens every forward pass; a pruning point hands later layers
  // a compacted batch.
  if ((layer == 0 && p == Proj::kQ) || &batch != segments_of_ || seg_indptr_.back() != rows) {
    build_segments(batch, rows);
  }
  if (!any_adapter_ || rows == 0) return;
  bricks_adapter_apply a{};
  a.struct_size = sizeof(a);
  a.layer = layer;
  a.proj = to_brick_proj(p);
  proj_dims(config_, p, &a.in_dim, &a.out_dim);
  a.num_rows = static_cast<int32_t>(rows);
  a.x = x;
  a.y = y;
  a.seg_indptr = seg_indptr_.data();
  a.seg_adapter = seg_adapter_.data();
  a.num_segments = static_cast<int32_t>(seg_adapter_.size());
  host::check(vt_->apply(inst_, &a), label_ + " apply");
}

ProjectionHook AdapterHook::as_projection_hook(std::shared_ptr<AdapterHook> hook) {
  return [hook = std::move(hook)](const ForwardBatch& batch, int32_t layer, Proj p, const float* x,
                                  int64_t rows, float* y) { (*hook)(batch, layer, p, x, rows, y); };
}

}  // namespace bricks::engine
