// A toy KV manager for the host suites: a free list of block ids, no prefix cache, no swap.
#include <map>
#include <vector>

#include "bricks/bricks.hpp"

namespace {

class ToyKv : public bricks::KvManager {
 public:
  ToyKv(const bricks::Host& host, const bricks::Params& params)
      : bricks::KvManager(host), block_size_(static_cast<int32_t>(params.get_int("block_size"))) {}

  int32_t block_size() const override { return block_size_; }

  void configure(const bricks_kv_geometry& geometry) override {
    total_ = geometry.num_device_blocks;
    free_.clear();
    for (int32_t b = total_ - 1; b >= 0; --b) free_.push_back(b);
  }

  int32_t lookup_prefix(const bricks_request_view&, int32_t) override { return 0; }

  bool allocate(const bricks_request_view& r, int32_t, int32_t num_cached,
                int32_t num_new) override {
    std::vector<int32_t>& held = held_[r.id];
    int32_t tokens = r.num_computed + num_cached + num_new;
    size_t needed = static_cast<size_t>((tokens + block_size_ - 1) / block_size_);
    if (needed <= held.size()) return true;
    if (needed - held.size() > free_.size()) return false;
    while (held.size() < needed) {
      held.push_back(free_.back());
      free_.pop_back();
    }
    return true;
  }

  void commit(const bricks_request_view&, int32_t) override {}

  void release(uint64_t request_id) override {
    auto it = held_.find(request_id);
    if (it == held_.end()) return;
    free_.insert(free_.end(), it->second.begin(), it->second.end());
    held_.erase(it);
  }

  void build_page_table(int32_t, const bricks_kv_seq* seqs, int32_t num_seqs,
                        bricks_page_table& table, int32_t* slots) override {
    indptr_.assign(1, 0);
    indices_.clear();
    last_.clear();
    int32_t slot = 0;
    for (int32_t s = 0; s < num_seqs; ++s) {
      const std::vector<int32_t>& held = held_.at(seqs[s].request_id);
      int32_t pages = (seqs[s].kv_len + block_size_ - 1) / block_size_;
      indices_.insert(indices_.end(), held.begin(), held.begin() + pages);
      indptr_.push_back(static_cast<int32_t>(indices_.size()));
      last_.push_back(seqs[s].kv_len - (pages - 1) * block_size_);
      for (int32_t t = seqs[s].kv_len - seqs[s].num_new; t < seqs[s].kv_len; ++t) {
        slots[slot++] = held[static_cast<size_t>(t / block_size_)] * block_size_ + t % block_size_;
      }
    }
    table = {indptr_.data(), indices_.data(), last_.data(), num_seqs, block_size_};
  }

  void stats(bricks_kv_stats& out) const override {
    out = bricks_kv_stats{};
    out.struct_size = sizeof(bricks_kv_stats);
    out.num_device_blocks = total_;
    out.free_device_blocks = static_cast<int32_t>(free_.size());
  }

 private:
  int32_t block_size_;
  int32_t total_ = 0;
  std::vector<int32_t> free_;
  std::map<uint64_t, std::vector<int32_t>> held_;
  std::vector<int32_t> indptr_, indices_, last_;
};

const bricks_param_spec kParams[] = {
    bricks::param_int("block_size", 4, 1, 1024, "Tokens per block."),
};
const char* const kProvides[] = {"kv.blocks", "device.cpu"};

}  // namespace

BRICKS_PLUGIN("toy_kv", "0.3.0", "Apache-2.0",
              bricks::describe<ToyKv>("toy_kv", "0.3.0", "Free-list KV blocks, toy.")
                  .params(kParams)
                  .provides(kProvides))
