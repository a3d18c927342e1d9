#include "sim_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <sstream>

namespace bricks::testing {

namespace {

// The token a request samples at `position`: deterministic, so runs are comparable.
int32_t sampled_token(uint64_t id, int32_t position) {
  return static_cast<int32_t>((id * 7919 + static_cast<uint64_t>(position) * 104729) % 50000) + 3;
}

constexpr size_t kCopyEnd = offsetof(bricks_kv_vtable, take_copies) + sizeof(void*);

}  // namespace

SimEngine::SimEngine(HarnessBrick& scheduler, HarnessBrick& kv, SimGeometry geometry,
                     SimLimits limits)
    : scheduler_(scheduler),
      kv_(kv),
      svt_(scheduler.vt<bricks_scheduler_vtable>()),
      kvt_(kv.vt<bricks_kv_vtable>()),
      geometry_(geometry),
      limits_(limits) {
  block_size_ = kvt_->block_size(kv_.instance());
  bricks_kv_geometry g{
      sizeof(bricks_kv_geometry), geometry.device_blocks, geometry.host_blocks, 0, 1, 1024};
  const std::string err = take_error(kvt_->configure(kv_.instance(), &g));
  if (!err.empty()) violation("kv configure failed: " + err);
  device_.assign(static_cast<size_t>(geometry.device_blocks) * block_size_, -1);
  host_.assign(static_cast<size_t>(geometry.host_blocks) * block_size_, -1);
}

void SimEngine::add(SimRequestSpec spec) {
  SimRequest r;
  r.tokens = spec.prompt;
  r.spec = std::move(spec);
  requests_.push_back(std::move(r));
}

SimRequest* SimEngine::find(uint64_t id) {
  for (auto& r : requests_) {
    if (r.spec.id == id) return &r;
  }
  return nullptr;
}

const SimRequest& SimEngine::request(uint64_t id) const {
  for (const auto& r : requests_) {
    if (r.spec.id == id) return r;
  }
  throw std::out_of_range("no request " + std::to_string(id));
}

const bricks_kv_stats SimEngine::kv_stats() const {
  bricks_kv_stats s{};
  s.struct_size = sizeof(s);
  kvt_->stats(kv_.instance(), &s);
  return s;
}

bool SimEngine::all_ended() const {
  return std::all_of(requests_.begin(), requests_.end(),
                     [](const SimRequest& r) { return r.outcome != SimOutcome::kLive; });
}

bool SimEngine::violation(const std::string& message) {
  ADD_FAILURE() << "step " << step_ << ": " << message;
  broken_ = true;
  return false;
}

int64_t SimEngine::run(int64_t max_steps) {
  const int64_t start = step_;
  while (!all_ended() && step_ - start < max_steps && step()) {
  }
  return step_ - start;
}

bool SimEngine::apply_copies() {
  if (kvt_->struct_size < kCopyEnd || kvt_->take_copies == nullptr) return true;
  const bricks_block_copy* copies = nullptr;
  const int32_t n = kvt_->take_copies(kv_.instance(), &copies);
  for (int32_t i = 0; i < n; ++i) {
    const bricks_block_copy& c = copies[i];
    auto pool = [&](bricks_tier t) -> std::vector<int32_t>* {
      return t == BRICKS_TIER_DEVICE ? &device_ : t == BRICKS_TIER_HOST ? &host_ : nullptr;
    };
    std::vector<int32_t>* src = pool(c.src_tier);
    std::vector<int32_t>* dst = pool(c.dst_tier);
    const int64_t bs = block_size_;
    if (src == nullptr || dst == nullptr || c.num_blocks < 1 || c.src_block < 0 ||
        c.dst_block < 0 || (c.src_block + c.num_blocks) * bs > static_cast<int64_t>(src->size()) ||
        (c.dst_block + c.num_blocks) * bs > static_cast<int64_t>(dst->size())) {
      return violation("block copy out of range");
    }
    std::copy_n(src->begin() + c.src_block * bs, c.num_blocks * bs,
                dst->begin() + c.dst_block * bs);
    ++counters_.copies;
  }
  return true;
}

// Reads every running request's computed tokens back through its page table.
bool SimEngine::check_running_contents() {
  std::vector<bricks_kv_seq> seqs;
  std::vector<const SimRequest*> owners;
  for (const auto& r : requests_) {
    if (r.outcome == SimOutcome::kLive && r.state == BRICKS_REQ_RUNNING && r.num_computed > 0) {
      seqs.push_back({r.spec.id, r.num_computed, 0});
      owners.push_back(&r);
    }
  }
  if (seqs.empty()) return true;
  bricks_page_table t{};
  const std::string err = take_error(kvt_->build_page_table(
      kv_.instance(), 0, seqs.data(), static_cast<int32_t>(seqs.size()), &t, nullptr));
  if (!err.empty()) return violation("page table of running requests: " + err);
  for (size_t b = 0; b < seqs.size(); ++b) {
    const SimRequest& r = *owners[b];
    for (int32_t pos = 0; pos < r.num_computed; ++pos) {
      const int32_t block = t.indices[t.indptr[b] + pos / block_size_];
      const int32_t held = device_[static_cast<size_t>(block) * block_size_ + pos % block_size_];
      if (held != r.tokens[static_cast<size_t>(pos)]) {
        return violation("request " + std::to_string(r.spec.id) + " lost its KV at position " +
                         std::to_string(pos) + " (block " + std::to_string(block) + ")");
      }
    }
  }
  return true;
}

bool SimEngine::compute_items(const bricks_step_plan& plan) {
  std::vector<bricks_kv_seq> seqs;
  int64_t new_tokens = 0;
  for (int32_t i = 0; i < plan.num_items; ++i) {
    const bricks_sched_item& it = plan.items[i];
    SimRequest* r = find(it.request_id);
    r->num_computed += it.num_cached;
    seqs.push_back({it.request_id, r->num_computed + it.num_tokens, it.num_tokens});
    new_tokens += it.num_tokens;
  }
  if (seqs.empty()) return true;
  std::vector<int32_t> slots(static_cast<size_t>(new_tokens), -1);
  bricks_page_table t{};
  const std::string err = take_error(kvt_->build_page_table(
      kv_.instance(), 0, seqs.data(), static_cast<int32_t>(seqs.size()), &t, slots.data()));
  if (!err.empty()) return violation("page table of the step's items: " + err);
  if (t.batch != static_cast<int32_t>(seqs.size()) || t.indptr[0] != 0 ||
      t.page_size != block_size_) {
    return violation("page table header is wrong");
  }
  size_t slot = 0;
  for (size_t b = 0; b < seqs.size(); ++b) {
    const int32_t pages = t.indptr[b + 1] - t.indptr[b];
    const int32_t kv_len = (pages - 1) * block_size_ + t.last_page_len[b];
    if (pages < 1 || kv_len != seqs[b].kv_len || t.last_page_len[b] < 1 ||
        t.last_page_len[b] > block_size_) {
      return violation("page table of request " + std::to_string(seqs[b].request_id) +
                       " does not describe kv_len " + std::to_string(seqs[b].kv_len));
    }
    const SimRequest& r = *find(seqs[b].request_id);
    for (int32_t pos = seqs[b].kv_len - seqs[b].num_new; pos < seqs[b].kv_len; ++pos, ++slot) {
      const int32_t expect =
          t.indices[t.indptr[b] + pos / block_size_] * block_size_ + pos % block_size_;
      if (slots[slot] != expect) return violation("slot mapping disagrees with the page table");
      device_[static_cast<size_t>(slots[slot])] = r.tokens[static_cast<size_t>(pos)];
    }
  }
  // Everything each item attends to must read back as its own tokens.
  for (size_t b = 0; b < seqs.size(); ++b) {
    const SimRequest& r = *find(seqs[b].request_id);
    for (int32_t pos = 0; pos < seqs[b].kv_len; ++pos) {
      const int32_t block = t.indices[t.indptr[b] + pos / block_size_];
      if (device_[static_cast<size_t>(block) * block_size_ + pos % block_size_] !=
          r.tokens[static_cast<size_t>(pos)]) {
        return violation("request " + std::to_string(r.spec.id) + " reads a foreign token at " +
                         std::to_string(pos) + ": KV over-committed or a wrong prefix hit");
      }
    }
  }
  return true;
}

namespace {

// The view the engine gives bricks of a request.
bricks_request_view view_of(const SimRequest& r) {
  bricks_request_view v{};
  v.id = r.spec.id;
  v.arrival_s = static_cast<double>(r.spec.arrival_step);
  v.state = r.state;
  v.prompt_len = static_cast<int32_t>(r.spec.prompt.size());
  v.num_tokens = static_cast<int32_t>(r.tokens.size());
  v.num_computed = r.num_computed;
  v.num_generated = r.num_generated;
  v.max_new_tokens = r.spec.max_new_tokens;
  v.num_preemptions = r.num_preemptions;
  v.priority = r.spec.priority;
  v.tenant = r.spec.tenant;
  v.conversation = r.spec.conversation;
  v.turn = r.spec.turn;
  v.prefix_group = r.spec.prefix_group;
  v.tokens = r.tokens.data();
  return v;
}

}  // namespace

bool SimEngine::step() {
  if (broken_) return false;
  views_.clear();
  for (auto& r : requests_) {
    if (r.outcome != SimOutcome::kLive || r.spec.arrival_step > step_) continue;
    bricks_request_view v = view_of(r);
    views_.push_back(v);
  }
  bricks_sched_input in{sizeof(bricks_sched_input), views_.data(),
                        static_cast<int32_t>(views_.size()), static_cast<double>(step_), step_};
  bricks_step_plan plan{};
  const std::string err = take_error(svt_->schedule(scheduler_.instance(), &in, &plan));
  if (!err.empty()) return violation("schedule failed: " + err);

  last_.items.assign(plan.items, plan.items + plan.num_items);
  last_.preempted.assign(plan.preempted, plan.preempted + plan.num_preempted);
  last_.swapped_in.assign(plan.swapped_in, plan.swapped_in + plan.num_swapped_in);
  last_.failed.clear();
  for (int32_t i = 0; i < plan.num_failed; ++i) last_.failed.push_back(plan.failed[i].request_id);
  std::ostringstream line;
  std::set<uint64_t> seen;
  auto live = [&](uint64_t id, const char* what) -> SimRequest* {
    SimRequest* r = find(id);
    if (r == nullptr || r->outcome != SimOutcome::kLive || r->spec.arrival_step > step_) {
      violation(std::string(what) + " names request " + std::to_string(id) + ", not live");
      return nullptr;
    }
    return r;
  };
  for (int32_t i = 0; i < plan.num_failed; ++i) {
    SimRequest* r = live(plan.failed[i].request_id, "failed");
    if (r == nullptr) return false;
    if (plan.failed[i].reason == nullptr || plan.failed[i].reason[0] == '\0') {
      return violation("request " + std::to_string(r->spec.id) + " failed without a reason");
    }
    if (!seen.insert(r->spec.id).second) return violation("request failed twice in one plan");
    r->outcome = SimOutcome::kFailed;
    r->reason = plan.failed[i].reason;
    r->end_step = step_;
    kvt_->release(kv_.instance(), r->spec.id);
    line << " F" << r->spec.id;
  }
  for (int32_t i = 0; i < plan.num_preempted; ++i) {
    SimRequest* r = live(plan.preempted[i].request_id, "preempted");
    if (r == nullptr) return false;
    if (r->state != BRICKS_REQ_RUNNING || !seen.insert(r->spec.id).second) {
      return violation("request " + std::to_string(r->spec.id) + " preempted while not running");
    }
    ++r->num_preemptions;
    if (plan.preempted[i].mode == BRICKS_PREEMPT_SWAP) {
      r->state = BRICKS_REQ_SWAPPED;
      ++counters_.swap_preemptions;
      line << " S" << r->spec.id;
    } else {
      // Recompute: the KV must already be gone.
      bricks_kv_seq probe{r->spec.id, 1, 0};
      bricks_page_table t{};
      if (take_error(kvt_->build_page_table(kv_.instance(), 0, &probe, 1, &t, nullptr)).empty()) {
        return violation("request " + std::to_string(r->spec.id) +
                         " preempted by recompute still holds KV");
      }
      r->state = BRICKS_REQ_WAITING;
      r->num_computed = 0;
      ++counters_.recompute_preemptions;
      line << " R" << r->spec.id;
    }
  }
  for (int32_t i = 0; i < plan.num_swapped_in; ++i) {
    SimRequest* r = live(plan.swapped_in[i], "swapped_in");
    if (r == nullptr) return false;
    if (r->state != BRICKS_REQ_SWAPPED) return violation("swapped in a request not swapped out");
    r->state = BRICKS_REQ_RUNNING;
    ++counters_.swap_ins;
    line << " I" << r->spec.id;
  }
  int64_t budget = 0;
  for (int32_t i = 0; i < plan.num_items; ++i) {
    const bricks_sched_item& it = plan.items[i];
    SimRequest* r = live(it.request_id, "item");
    if (r == nullptr) return false;
    const std::string who = "item for request " + std::to_string(it.request_id);
    if (!seen.insert(it.request_id).second) return violation(who + " also appears elsewhere");
    if (r->state == BRICKS_REQ_SWAPPED) return violation(who + ": the request is swapped out");
    if (it.num_tokens < 1 || it.num_cached < 0 || it.num_cached % block_size_ != 0) {
      return violation(who + ": bad num_tokens/num_cached");
    }
    if (it.num_cached > 0 && r->state != BRICKS_REQ_WAITING) {
      return violation(who + ": num_cached for a request that already holds KV");
    }
    if (r->num_computed + it.num_cached + it.num_tokens > static_cast<int32_t>(r->tokens.size())) {
      return violation(who + ": computes past the end of the sequence");
    }
    r->state = BRICKS_REQ_RUNNING;
    budget += it.num_tokens;
    counters_.cached_tokens += it.num_cached;
    line << " " << it.request_id << "+" << it.num_tokens << "c" << it.num_cached;
  }
  counters_.items += plan.num_items;
  if (budget > limits_.max_num_batched_tokens) return violation("token budget exceeded");
  int32_t running = 0;
  for (const auto& r : requests_) {
    running += r.outcome == SimOutcome::kLive && r.state == BRICKS_REQ_RUNNING ? 1 : 0;
  }
  if (running > limits_.max_num_seqs) return violation("max_num_seqs exceeded");
  trace_.push_back(line.str());

  if (!apply_copies() || !check_running_contents() || !compute_items(plan)) return false;

  std::vector<uint64_t> finished;
  for (int32_t i = 0; i < plan.num_items; ++i) {
    SimRequest& r = *find(plan.items[i].request_id);
    r.num_computed += plan.items[i].num_tokens;
    if (r.num_computed == static_cast<int32_t>(r.tokens.size())) {
      r.tokens.push_back(sampled_token(r.spec.id, r.num_computed));
      ++r.num_generated;
    }
    const bricks_request_view v = view_of(r);
    kvt_->commit(kv_.instance(), &v, 0);
    if (r.num_generated >= r.spec.max_new_tokens) {
      r.outcome = SimOutcome::kFinished;
      r.end_step = step_;
      kvt_->release(kv_.instance(), r.spec.id);
      finished.push_back(r.spec.id);
    }
  }
  const bricks_kv_stats s = kv_stats();
  if (s.free_device_blocks < 0 || s.free_device_blocks > s.num_device_blocks) {
    return violation("kv stats report an impossible free block count");
  }
  if (svt_->on_step_done != nullptr) {
    bricks_step_result res{sizeof(bricks_step_result), finished.data(),
                           static_cast<int32_t>(finished.size()), 0.001};
    svt_->on_step_done(scheduler_.instance(), &res);
  }
  ++step_;
  return true;
}

std::vector<SimRequestSpec> random_workload(uint32_t seed, const WorkloadShape& shape) {
  std::mt19937 rng(seed);
  auto uniform = [&](int32_t lo, int32_t hi) {
    return std::uniform_int_distribution<int32_t>(lo, hi)(rng);
  };
  std::vector<std::vector<int32_t>> prefixes(static_cast<size_t>(shape.num_prefix_groups));
  for (auto& p : prefixes) {
    for (int32_t i = 0; i < shape.shared_prefix_len; ++i) p.push_back(uniform(3, 30000));
  }
  std::vector<SimRequestSpec> out;
  for (int32_t i = 0; i < shape.num_requests; ++i) {
    SimRequestSpec s;
    s.id = static_cast<uint64_t>(i) + 1;
    s.arrival_step = uniform(0, std::max(0, shape.arrival_spread));
    const bool oversized = shape.oversized_every > 0 && (i + 1) % shape.oversized_every == 0;
    const int32_t len = oversized ? shape.oversized_len : uniform(1, shape.max_prompt);
    const int32_t group = uniform(0, shape.num_prefix_groups);  // == num_prefix_groups: none
    if (group < shape.num_prefix_groups) {
      const auto& p = prefixes[static_cast<size_t>(group)];
      s.prompt.assign(p.begin(), p.begin() + std::min<size_t>(p.size(), static_cast<size_t>(len)));
    }
    while (static_cast<int32_t>(s.prompt.size()) < len) s.prompt.push_back(uniform(3, 30000));
    s.max_new_tokens = uniform(1, shape.max_new);
    out.push_back(std::move(s));
  }
  std::stable_sort(out.begin(), out.end(), [](const SimRequestSpec& a, const SimRequestSpec& b) {
    return a.arrival_step < b.arrival_step;
  });
  return out;
}

}  // namespace bricks::testing
