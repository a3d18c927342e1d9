#include "engine/kv_groups.h"

#include <algorithm>
#include <stdexcept>

#include "host/host_error.h"

namespace bricks::engine {

KvGroupLayout KvGroupLayout::make(int32_t num_layers, std::vector<int32_t> prune_after) {
  if (num_layers < 1) throw std::invalid_argument("a model needs at least one layer");
  std::sort(prune_after.begin(), prune_after.end());
  for (size_t i = 0; i < prune_after.size(); ++i) {
    const int32_t l = prune_after[i];
    if (l < 0 || l > num_layers - 2) {
      throw std::invalid_argument(
          "pruning after layer " + std::to_string(l) + " of a " + std::to_string(num_layers) +
          "-layer model: give a layer in [0, " + std::to_string(num_layers - 2) +
          "] (after the last layer nothing is left to compute)");
    }
    if (i > 0 && prune_after[i - 1] == l) {
      throw std::invalid_argument("two pruners act after layer " + std::to_string(l) +
                                  "; give each layer to one pruner");
    }
  }
  KvGroupLayout g;
  g.num_layers = num_layers;
  g.prune_after = std::move(prune_after);
  g.slabs = g.prune_after.empty() ? num_layers : g.prune_after.front() + 1;
  g.group_of_layer.resize(static_cast<size_t>(num_layers));
  g.slab_of_layer.resize(static_cast<size_t>(num_layers));
  int32_t segment = 0;
  int32_t start = 0;  // first layer of the current segment
  for (int32_t l = 0; l < num_layers; ++l) {
    if (l > 0 && g.prunes_after(l - 1)) {
      ++segment;
      start = l;
    }
    const int32_t slab = (l - start) % g.slabs;
    if (l == 0 || slab == 0) {
      g.first_layer.push_back(l);
      g.segment_of_group.push_back(segment);
    }
    g.group_of_layer[static_cast<size_t>(l)] = g.num_groups() - 1;
    g.slab_of_layer[static_cast<size_t>(l)] = slab;
  }
  return g;
}

bool KvGroupLayout::prunes_after(int32_t layer) const {
  return std::binary_search(prune_after.begin(), prune_after.end(), layer);
}

KvGroups::KvGroups(KvGroupLayout layout, const host::BrickInstance& kv)
    : layout_(std::move(layout)),
      vt_(kv.vtable<bricks_kv_vtable>()),
      kv_(kv.instance()),
      kv_name_("kv/" + kv.info().name) {}

void KvGroups::reset(Request& r) const {
  r.group_tokens.assign(static_cast<size_t>(layout_.num_groups()), 0);
  r.pruned = false;
  r.stash.clear();
}

void KvGroups::begin_step(std::span<Request* const> seqs,
                          std::span<const bricks_request_view> views,
                          std::span<const int32_t> counts) {
  seqs_.assign(seqs.begin(), seqs.end());
  views_.assign(views.begin(), views.end());
  const size_t n = seqs_.size();
  roles_.assign(n, PruneRole::kPass);
  added_.assign(n, std::vector<int32_t>(static_cast<size_t>(layout_.num_groups()), 0));
  failures_.assign(n, std::string());
  if (!pruning()) return;
  for (size_t b = 0; b < n; ++b) {
    const Request& r = *seqs_[b];
    if (r.spec.images.empty() || r.pruned) continue;
    const bool completes = r.num_computed + counts[b] == r.num_tokens();
    roles_[b] = completes ? PruneRole::kPrune : PruneRole::kStash;
  }
}

bricks_request_view KvGroups::group_view(int32_t seq, int32_t group) const {
  bricks_request_view v = views_[static_cast<size_t>(seq)];
  const Request& r = *seqs_[static_cast<size_t>(seq)];
  // A group after a pruning point holds a subset of the tokens: no token identity, so no
  // kv brick can treat it as a prefix.
  v.num_computed = r.group_tokens[static_cast<size_t>(group)];
  v.tokens = nullptr;
  return v;
}

bool KvGroups::allocate(int32_t group, int32_t seq, int32_t rows) {
  if (group < 1 || group >= layout_.num_groups()) {
    throw std::logic_error("KvGroups::allocate for group " + std::to_string(group));
  }
  const bricks_request_view v = group_view(seq, group);
  int32_t ok = 0;
  host::check(vt_->allocate(kv_, &v, group, 0, rows, &ok), kv_name_ + " allocate");
  if (ok == 0) {
    fail(seq, "the KV cache has no room for " + std::to_string(v.num_computed + rows) +
                  " tokens in KV group " + std::to_string(group) +
                  " (layers after a pruning point); give the device more kv_cache_bytes or "
                  "lower the scheduler's limits");
    return false;
  }
  added_[static_cast<size_t>(seq)][static_cast<size_t>(group)] += rows;
  return true;
}

void KvGroups::build_table(int32_t group, std::span<const int32_t> seqs,
                           std::span<const int32_t> rows, bricks_page_table& table,
                           std::vector<int32_t>& slots) {
  kv_seqs_.clear();
  int32_t total = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const Request& r = *seqs_[static_cast<size_t>(seqs[i])];
    const int32_t held = r.group_tokens[static_cast<size_t>(group)];
    kv_seqs_.push_back(bricks_kv_seq{r.id, held + rows[i], rows[i]});
    total += rows[i];
  }
  slots.resize(static_cast<size_t>(total));
  table = bricks_page_table{};
  host::check(vt_->build_page_table(kv_, group, kv_seqs_.data(),
                                    static_cast<int32_t>(kv_seqs_.size()), &table, slots.data()),
              kv_name_ + " build_page_table");
}

void KvGroups::fail(int32_t seq, std::string reason) {
  std::string& f = failures_[static_cast<size_t>(seq)];
  if (f.empty()) f = std::move(reason);
}

void KvGroups::end_step() {
  for (size_t b = 0; b < seqs_.size(); ++b) {
    if (!failures_[b].empty()) continue;
    Request& r = *seqs_[b];
    for (int32_t g = 1; g < layout_.num_groups(); ++g) {
      const int32_t add = added_[b][static_cast<size_t>(g)];
      if (add == 0) continue;
      r.group_tokens[static_cast<size_t>(g)] += add;
      const bricks_request_view v = group_view(static_cast<int32_t>(b), g);
      vt_->commit(kv_, &v, g);
    }
    if (roles_[b] == PruneRole::kPrune) {
      r.pruned = true;
      r.stash.clear();
    }
  }
  seqs_.clear();
}

}  // namespace bricks::engine
