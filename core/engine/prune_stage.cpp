#include "engine/prune_stage.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/image_input.h"
#include "host/host_error.h"

namespace bricks::engine {

namespace {

const ImageInput* image_at(const RequestSpec& s, int32_t pos) {
  for (const ImageInput& im : s.images) {
    if (pos >= im.offset && pos < im.end()) return &im;
  }
  return nullptr;
}

}  // namespace

PruneStage::PruneStage(const model::LlamaConfig& config, KvGroupLayout layout,
                       std::vector<PrunePoint> points)
    : c_(config), layout_(std::move(layout)), points_(std::move(points)) {
  std::sort(points_.begin(), points_.end(),
            [](const PrunePoint& a, const PrunePoint& b) { return a.layer < b.layer; });
  if (points_.size() != layout_.prune_after.size()) {
    throw std::invalid_argument("PruneStage: the pruning points do not match the KV layout");
  }
  for (size_t i = 0; i < points_.size(); ++i) {
    if (points_[i].layer != layout_.prune_after[i] || points_[i].brick == nullptr) {
      throw std::invalid_argument("PruneStage: the pruning points do not match the KV layout");
    }
  }
}

const PrunePoint& PruneStage::point_at(int32_t layer) const {
  for (const PrunePoint& p : points_) {
    if (p.layer == layer) return p;
  }
  throw std::logic_error("no pruner after layer " + std::to_string(layer));
}

bool PruneStage::acts_at(int32_t seq, int32_t layer) const {
  const PruneRole role = groups_->role(seq_[static_cast<size_t>(seq)]);
  return role == PruneRole::kPrune ||
         (role == PruneRole::kStash && layer == layout_.prune_after.front());
}

int32_t PruneStage::last_prunable(const Request& r) const {
  if (r.spec.images.empty()) return -1;
  return std::min(r.spec.images.back().end() - 1, r.num_tokens() - 2);
}

const ForwardBatch& PruneStage::begin(const ForwardBatch& batch, const bricks_page_table& table) {
  if (groups_ == nullptr || !planner_) {
    throw std::logic_error("PruneStage used before the engine's KV groups were attached");
  }
  cur_ = batch;
  const int32_t B = batch.num_seqs();
  seq_.resize(static_cast<size_t>(B));
  kv_len_.resize(static_cast<size_t>(B));
  logit_of_.assign(static_cast<size_t>(B), -1);
  size_t li = 0;
  for (int32_t b = 0; b < B; ++b) {
    seq_[static_cast<size_t>(b)] = b;
    const int32_t pages = table.indptr[b + 1] - table.indptr[b];
    kv_len_[static_cast<size_t>(b)] = (pages - 1) * table.page_size + table.last_page_len[b];
    if (li < batch.logit_rows.size() && batch.logit_rows[li] == batch.qo_indptr[b + 1] - 1) {
      logit_of_[static_cast<size_t>(b)] = static_cast<int32_t>(li++);
    }
  }
  logit_index_.resize(batch.logit_rows.size());
  for (size_t i = 0; i < logit_index_.size(); ++i) logit_index_[i] = static_cast<int32_t>(i);
  return cur_;
}

void PruneStage::scores_for(int32_t layer, const uint8_t** score_rows, float** scores) {
  *score_rows = nullptr;
  *scores = nullptr;
  if (!layout_.prunes_after(layer)) return;
  bool any = false;
  for (int32_t i = 0; i < cur_.num_seqs() && !any; ++i) any = acts_at(i, layer);
  if (!any) return;
  score_rows_.assign(static_cast<size_t>(cur_.num_tokens()), 0);
  int64_t total = 0;
  for (int32_t i = 0; i < cur_.num_seqs(); ++i) {
    total += kv_len_[static_cast<size_t>(i)];
    if (!acts_at(i, layer)) continue;
    const int32_t lastp = last_prunable(groups_->request(seq_[static_cast<size_t>(i)]));
    for (int32_t row = cur_.qo_indptr[i]; row < cur_.qo_indptr[i + 1]; ++row) {
      if (cur_.positions[static_cast<size_t>(row)] > lastp)
        score_rows_[static_cast<size_t>(row)] = 1;
    }
  }
  scores_.assign(static_cast<size_t>(total), 0.0f);
  *score_rows = score_rows_.data();
  *scores = scores_.data();
}

void PruneStage::after_attention(int32_t layer, const float* q, const float* k) {
  if (scores_.empty() || !layout_.prunes_after(layer)) return;
  const int64_t T = cur_.num_tokens();
  q_.assign(q, q + T * c_.n_heads * c_.head_dim);
  k_.assign(k, k + T * c_.n_kv_heads * c_.head_dim);
}

void PruneStage::stash_rows(int32_t i, const float* x) {
  const int32_t b = seq_[static_cast<size_t>(i)];
  Request& r = groups_->request(b);
  PruneStash& s = r.stash;
  const int32_t row0 = cur_.qo_indptr[i];
  const int32_t n = cur_.qo_indptr[i + 1] - row0;
  if (cur_.positions[static_cast<size_t>(row0)] != s.tokens) {
    groups_->fail(b, "a chunk of its prompt starts at position " +
                         std::to_string(cur_.positions[static_cast<size_t>(row0)]) +
                         " but the pruning stash holds " + std::to_string(s.tokens) +
                         " tokens (a prefix-cache hit skips the layers after a pruning point; "
                         "disable the kv brick's prefix cache with pruning)");
    return;
  }
  const int64_t d = c_.hidden;
  const int64_t qd = static_cast<int64_t>(c_.n_heads) * c_.head_dim;
  const int64_t kd = static_cast<int64_t>(c_.n_kv_heads) * c_.head_dim;
  s.hidden.insert(s.hidden.end(), x + row0 * d, x + (row0 + n) * d);
  s.q.insert(s.q.end(), q_.data() + row0 * qd, q_.data() + (row0 + n) * qd);
  s.k.insert(s.k.end(), k_.data() + row0 * kd, k_.data() + (row0 + n) * kd);
  const int32_t kv = kv_len_[static_cast<size_t>(i)];
  int64_t off = 0;
  for (int32_t j = 0; j < i; ++j) off += kv_len_[static_cast<size_t>(j)];
  s.text_scores.resize(static_cast<size_t>(kv), 0.0f);
  for (int32_t j = 0; j < kv; ++j)
    s.text_scores[static_cast<size_t>(j)] += scores_[static_cast<size_t>(off + j)];
  s.tokens += n;
}

void PruneStage::self_scores(int32_t count, const float* q, const float* k,
                             std::vector<float>& out) {
  const int32_t hd = c_.head_dim;
  const int32_t nh = c_.n_heads;
  const int32_t per_kv = c_.n_heads / c_.n_kv_heads;
  const int64_t qd = static_cast<int64_t>(nh) * hd;
  const int64_t kd = static_cast<int64_t>(c_.n_kv_heads) * hd;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  out.assign(static_cast<size_t>(count) * count, 0.0f);
  probs_.resize(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) {
    float* row = out.data() + static_cast<int64_t>(i) * count;
    for (int32_t h = 0; h < nh; ++h) {
      const float* qi = q + i * qd + static_cast<int64_t>(h) * hd;
      const int64_t ko = static_cast<int64_t>(h / per_kv) * hd;
      float mx = -INFINITY;
      for (int32_t j = 0; j < count; ++j) {
        const float* kj = k + j * kd + ko;
        // Eight independent sums, so the compiler can keep them in one vector register.
        float lane[8] = {};
        int32_t e = 0;
        for (; e + 8 <= hd; e += 8) {
          for (int32_t u = 0; u < 8; ++u) lane[u] += qi[e + u] * kj[e + u];
        }
        float dot = 0.0f;
        for (; e < hd; ++e) dot += qi[e] * kj[e];
        for (float v : lane) dot += v;
        probs_[static_cast<size_t>(j)] = dot * scale;
        mx = std::max(mx, dot * scale);
      }
      float sum = 0.0f;
      for (float& p : probs_) sum += (p = std::exp(p - mx));
      const float w = 1.0f / (sum * static_cast<float>(nh));
      for (int32_t j = 0; j < count; ++j) row[j] += probs_[static_cast<size_t>(j)] * w;
    }
  }
}

bool PruneStage::prune_seq(int32_t i, const PrunePoint& p, const float* x, NextRows& next) {
  const int32_t b = seq_[static_cast<size_t>(i)];
  Request& r = groups_->request(b);
  const bool first = p.layer == layout_.prune_after.front();
  const int32_t row0 = cur_.qo_indptr[i];
  const int32_t n = cur_.qo_indptr[i + 1] - row0;
  const int32_t S = first ? r.stash.tokens : 0;
  const int32_t V = S + n;
  if (first && cur_.positions[static_cast<size_t>(row0)] != S) {
    groups_->fail(b, "its last prompt chunk starts at position " +
                         std::to_string(cur_.positions[static_cast<size_t>(row0)]) +
                         " but the pruning stash holds " + std::to_string(S) +
                         " tokens (a prefix-cache hit skips the layers after a pruning point; "
                         "disable the kv brick's prefix cache with pruning)");
    return false;
  }
  if (kv_len_[static_cast<size_t>(i)] != V) {
    groups_->fail(b, "its KV at the pruning layer holds " +
                         std::to_string(kv_len_[static_cast<size_t>(i)]) + " tokens, not the " +
                         std::to_string(V) + " the pruner must see");
    return false;
  }
  int64_t off = 0;
  for (int32_t j = 0; j < i; ++j) off += kv_len_[static_cast<size_t>(j)];
  const int64_t d = c_.hidden;
  const int64_t qd = static_cast<int64_t>(c_.n_heads) * c_.head_dim;
  const int64_t kd = static_cast<int64_t>(c_.n_kv_heads) * c_.head_dim;
  const int32_t lastp = last_prunable(r);
  const int32_t grid_w = r.spec.images.front().grid_w;
  const int32_t grid_h = r.spec.images.front().grid_h;

  std::vector<int32_t> positions(static_cast<size_t>(V));
  std::vector<const float*> src(static_cast<size_t>(V));
  prunable_.assign(static_cast<size_t>(V), 0);
  grid_xy_.assign(static_cast<size_t>(2 * V), -1);
  text_.resize(static_cast<size_t>(V));
  hidden_.resize(static_cast<size_t>(V * d));
  vq_.clear();
  vk_.clear();
  for (int32_t j = 0; j < V; ++j) {
    const bool stashed = j < S;
    const int32_t row = row0 + j - S;
    const int32_t pos = stashed ? j : cur_.positions[static_cast<size_t>(row)];
    positions[static_cast<size_t>(j)] = pos;
    src[static_cast<size_t>(j)] = stashed ? r.stash.hidden.data() + j * d : x + row * d;
    std::copy_n(src[static_cast<size_t>(j)], d, hidden_.data() + j * d);
    float t = scores_[static_cast<size_t>(off + j)];
    if (static_cast<size_t>(j) < r.stash.text_scores.size() && first) {
      t += r.stash.text_scores[static_cast<size_t>(j)];
    }
    text_[static_cast<size_t>(j)] = t;
    const ImageInput* im = pos <= lastp ? image_at(r.spec, pos) : nullptr;
    if (im == nullptr) continue;
    prunable_[static_cast<size_t>(j)] = 1;
    grid_xy_[static_cast<size_t>(2 * j)] = (pos - im->offset) % im->grid_w;
    grid_xy_[static_cast<size_t>(2 * j + 1)] = (pos - im->offset) / im->grid_w;
    if (p.self_scores) {
      const float* qs = stashed ? r.stash.q.data() + j * qd : q_.data() + row * qd;
      const float* ks = stashed ? r.stash.k.data() + j * kd : k_.data() + row * kd;
      vq_.insert(vq_.end(), qs, qs + qd);
      vk_.insert(vk_.end(), ks, ks + kd);
    }
  }
  if (p.self_scores)
    self_scores(static_cast<int32_t>(vk_.size() / kd), vq_.data(), vk_.data(), self_);

  bricks_prune_input in{};
  in.struct_size = sizeof(in);
  in.request_id = r.id;
  in.layer = p.layer;
  in.num_layers = c_.n_layers;
  in.num_tokens = V;
  in.prunable = prunable_.data();
  in.grid_xy = grid_xy_.data();
  in.grid_w = grid_w;
  in.grid_h = grid_h;
  in.text_scores = text_.data();
  in.self_scores = p.self_scores ? self_.data() : nullptr;
  in.hidden = hidden_.data();
  in.hidden_dim = c_.hidden;
  bricks_keep_set keep{nullptr, 0};
  const std::string name = "pruning/" + p.brick->info().name;
  try {
    const auto* vt = p.brick->vtable<bricks_pruning_vtable>();
    host::check(vt->select(p.brick->instance(), &in, &keep), name + " select");
  } catch (const std::exception& e) {
    groups_->fail(b, e.what());
    return false;
  }
  // The keep set must be what kind_pruning.h promises; a broken one fails this request only.
  std::string bad;
  if (keep.num_keep < 1 || keep.num_keep > V || keep.keep == nullptr) {
    bad = "kept " + std::to_string(keep.num_keep) + " of " + std::to_string(V) + " tokens";
  }
  int32_t expect = 0;  // the next index a non-prunable token forces into the set
  for (int32_t k = 0; bad.empty() && k < keep.num_keep; ++k) {
    const int32_t t = keep.keep[k];
    if (t < 0 || t >= V || (k > 0 && t <= keep.keep[k - 1])) {
      bad = "index " + std::to_string(t) + " at " + std::to_string(k) +
            " is out of range or not ascending";
      break;
    }
    for (; expect < t; ++expect) {
      if (prunable_[static_cast<size_t>(expect)] == 0) {
        bad = "dropped non-prunable token " + std::to_string(expect);
        break;
      }
    }
    expect = t + 1;
  }
  for (; bad.empty() && expect < V; ++expect) {
    if (prunable_[static_cast<size_t>(expect)] == 0) {
      bad = "dropped non-prunable token " + std::to_string(expect);
    }
  }
  if (!bad.empty()) {
    groups_->fail(b, name + " returned an invalid keep set: " + bad);
    return false;
  }
  next.positions.clear();
  next.hidden.clear();
  for (int32_t k = 0; k < keep.num_keep; ++k) {
    next.positions.push_back(positions[static_cast<size_t>(keep.keep[k])]);
    next.hidden.push_back(src[static_cast<size_t>(keep.keep[k])]);
  }
  return true;
}

void PruneStage::rebuild(const std::vector<int32_t>& seqs, const std::vector<NextRows>& rows,
                         std::vector<float>& x) {
  const int64_t d = c_.hidden;
  ForwardBatch next;
  next.clear();
  std::vector<int32_t> next_seq;
  logit_index_.clear();
  x_next_.clear();
  for (size_t s = 0; s < seqs.size(); ++s) {
    const int32_t b = seqs[s];
    const Request& r = groups_->request(b);
    next.requests.push_back(&r);
    for (size_t j = 0; j < rows[s].positions.size(); ++j) {
      const int32_t pos = rows[s].positions[j];
      next.positions.push_back(pos);
      next.token_ids.push_back(r.tokens[static_cast<size_t>(pos)]);
      x_next_.insert(x_next_.end(), rows[s].hidden[j], rows[s].hidden[j] + d);
    }
    next.qo_indptr.push_back(static_cast<int32_t>(next.positions.size()));
    if (logit_of_[static_cast<size_t>(b)] >= 0) {
      next.logit_rows.push_back(next.qo_indptr.back() - 1);
      logit_index_.push_back(logit_of_[static_cast<size_t>(b)]);
    }
    next_seq.push_back(b);
  }
  cur_ = std::move(next);
  seq_ = std::move(next_seq);
  kv_len_.assign(seq_.size(), 0);
  x.swap(x_next_);
}

const ForwardBatch& PruneStage::prune(int32_t layer, std::vector<float>& x) {
  const PrunePoint& p = point_at(layer);
  const int64_t d = c_.hidden;
  std::vector<int32_t> seqs;
  std::vector<NextRows> rows;
  for (int32_t i = 0; i < cur_.num_seqs(); ++i) {
    const int32_t b = seq_[static_cast<size_t>(i)];
    const PruneRole role = groups_->role(b);
    if (role == PruneRole::kStash) {
      if (layer == layout_.prune_after.front()) stash_rows(i, x.data());
      continue;  // a stashed chunk computes no later layer in this step
    }
    NextRows next;
    if (role == PruneRole::kPrune) {
      if (!prune_seq(i, p, x.data(), next)) continue;
    } else {
      for (int32_t row = cur_.qo_indptr[i]; row < cur_.qo_indptr[i + 1]; ++row) {
        next.positions.push_back(cur_.positions[static_cast<size_t>(row)]);
        next.hidden.push_back(x.data() + row * d);
      }
    }
    seqs.push_back(b);
    rows.push_back(std::move(next));
  }
  rebuild(seqs, rows, x);
  return cur_;
}

void PruneStage::drop_failed(std::vector<float>& x) {
  const int64_t d = c_.hidden;
  std::vector<int32_t> seqs;
  std::vector<NextRows> rows;
  for (int32_t i = 0; i < cur_.num_seqs(); ++i) {
    const int32_t b = seq_[static_cast<size_t>(i)];
    if (!groups_->failure(b).empty()) continue;
    NextRows next;
    for (int32_t row = cur_.qo_indptr[i]; row < cur_.qo_indptr[i + 1]; ++row) {
      next.positions.push_back(cur_.positions[static_cast<size_t>(row)]);
      next.hidden.push_back(x.data() + row * d);
    }
    seqs.push_back(b);
    rows.push_back(std::move(next));
  }
  rebuild(seqs, rows, x);
}

const ForwardBatch& PruneStage::open_group(int32_t layer, std::vector<float>& x) {
  const int32_t g = layout_.group_of_layer[static_cast<size_t>(layer)];
  bool dropped = false;
  for (int32_t i = 0; i < cur_.num_seqs(); ++i) {
    const int32_t rows = cur_.qo_indptr[i + 1] - cur_.qo_indptr[i];
    if (!groups_->allocate(g, seq_[static_cast<size_t>(i)], rows)) dropped = true;
  }
  if (dropped) drop_failed(x);
  group_rows_.clear();
  for (int32_t i = 0; i < cur_.num_seqs(); ++i) {
    group_rows_.push_back(cur_.qo_indptr[i + 1] - cur_.qo_indptr[i]);
  }
  if (cur_.num_seqs() == 0) return cur_;
  bricks_page_table table{};
  groups_->build_table(g, seq_, group_rows_, table, cur_.slots);
  for (int32_t i = 0; i < cur_.num_seqs(); ++i) {
    const int32_t pages = table.indptr[i + 1] - table.indptr[i];
    kv_len_[static_cast<size_t>(i)] = (pages - 1) * table.page_size + table.last_page_len[i];
  }
  planner_(cur_.qo_indptr, table);
  return cur_;
}

}  // namespace bricks::engine
