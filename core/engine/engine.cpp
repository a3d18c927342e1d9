#include "engine/engine.h"

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>

#include "engine/context_overflow.h"
#include "engine/image_input.h"
#include "engine/logprobs.h"
#include "host/registry.h"
#include "tier/disk_block_file.h"

namespace bricks::engine {

namespace {

// KV memory this device allocates for real must fit the machine: a slip of a few zeros is
// refused with the field's name rather than ending in std::bad_alloc.
void check_fits_memory(const char* field, int64_t bytes) {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0 || bytes <= 0) return;
  const auto memory = static_cast<int64_t>(pages) * page;
  if (bytes > memory) {
    throw std::invalid_argument(std::string(field) + " = " + std::to_string(bytes) +
                                " is more than this machine's memory (" +
                                std::to_string(memory) + " bytes); give less");
  }
}

// The disk tier under the host tier: whole blocks, and a host tier in memory to cache them
// (a block is written to disk from host memory and read back through it).
tier::DiskTierOptions disk_tier(const EngineOptions& options, int64_t block_bytes,
                                int64_t host_blocks) {
  const int64_t blocks = options.disk_kv_bytes / block_bytes;
  if (blocks < 1) {
    throw std::invalid_argument("device.disk_kv_bytes = " + std::to_string(options.disk_kv_bytes) +
                                " holds no KV block (one block takes " +
                                std::to_string(block_bytes) + " bytes); raise it, or give 0");
  }
  if (host_blocks < 1) {
    throw std::invalid_argument(
        "device.disk_kv_bytes needs a host tier above it, but "
        "device.host_kv_bytes = " +
        std::to_string(options.host_kv_bytes) + " holds no KV block (one takes " +
        std::to_string(block_bytes) + " bytes); raise host_kv_bytes");
  }
  if (host_blocks + blocks > (1ll << 30)) {
    throw std::invalid_argument(
        "device.host_kv_bytes + device.disk_kv_bytes make more than 2^30 "
        "KV blocks; give less, or a larger block_size");
  }
  tier::DiskTierOptions o;
  o.dir = options.disk_dir;
  o.block_bytes = block_bytes;
  o.num_blocks = static_cast<int32_t>(blocks);
  return o;
}

}  // namespace

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kNone: return "none";
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kFailed: return "failed";
  }
  return "none";
}

Engine::Engine(EngineModel model, EngineBricks bricks, const EngineOptions& options,
               std::unique_ptr<Device> device)
    : model_(std::move(model)),
      scheduler_(*bricks.scheduler),
      kv_(*bricks.kv),
      options_(options),
      device_(std::move(device)),
      clock_(device_->clock()) {
  const model::LlamaConfig& c = model_.config;
  KvGroupLayout layout = KvGroupLayout::make(c.n_layers, options.prune_layers);
  // A block stores `slabs` layers (all of them without pruning points).
  KvShape shape{layout.slabs, c.n_kv_heads, c.head_dim, kv_.block_size(), options.kv_dtype};
  if (shape.block_size <= 0) throw std::invalid_argument("kv brick reports a block size <= 0");
  const auto block_bytes = static_cast<int64_t>(shape.block_bytes());
  const int64_t device_blocks = options.kv_cache_bytes / block_bytes;
  if (device_blocks < 1) {
    throw std::invalid_argument("device.kv_cache_bytes = " +
                                std::to_string(options.kv_cache_bytes) +
                                " holds no KV block (one block takes " +
                                std::to_string(block_bytes) + " bytes); raise it");
  }
  if (device_->stores_kv()) {
    check_fits_memory("device.kv_cache_bytes", options.kv_cache_bytes);
    check_fits_memory("device.host_kv_bytes", options.host_kv_bytes);
  }
  if (device_blocks > (1ll << 30)) {
    throw std::invalid_argument("device.kv_cache_bytes = " +
                                std::to_string(options.kv_cache_bytes) + " makes more than 2^30 "
                                "KV blocks; give less, or a larger block_size");
  }
  const int64_t host_blocks = options.host_kv_bytes / block_bytes;
  std::optional<tier::DiskTierOptions> disk;
  if (options.disk_kv_bytes > 0 && device_->stores_kv()) {
    disk = disk_tier(options, block_bytes, host_blocks);
  }
  pool_ = std::make_unique<KvPool>(shape, static_cast<int32_t>(device_blocks),
                                   static_cast<int32_t>(std::min<int64_t>(host_blocks, 1 << 30)),
                                   device_->stores_kv(), disk);
  bricks_kv_geometry g{};
  g.struct_size = sizeof(g);
  g.num_device_blocks = pool_->num_device_blocks();
  g.num_host_blocks = pool_->num_host_blocks();
  g.num_disk_blocks = 0;
  g.num_groups = layout.num_groups();
  g.bytes_per_block = block_bytes;
  kv_.configure(g);
  groups_ = std::make_unique<KvGroups>(std::move(layout), *bricks.kv);
  device_->bind(*pool_);
  batch_.clear();
  clock_.restart();  // time zero: the engine can take requests now
}

// The device may still be copying KV blocks into the pool, which goes first.
Engine::~Engine() {
  if (device_ != nullptr) device_->end_step();
}

uint64_t Engine::submit(RequestSpec spec) {
  auto owned = std::make_unique<Request>();
  Request& r = *owned;
  r.id = next_id_++;
  const OverflowResult fit = fit_context(spec, model_.config.context_length);
  r.prompt_tokens_truncated = fit.prompt_truncated;
  r.max_tokens_clamped = fit.max_tokens_clamped;
  r.spec = std::move(spec);
  r.tokens = r.spec.prompt;
  groups_->reset(r);
  r.rng = cpu::Rng(r.spec.sampling.seed * 0x9E3779B97F4A7C15ull + r.id);
  requests_.push_back(std::move(owned));
  ++num_submitted_;

  const model::LlamaConfig& c = model_.config;
  std::string problem;
  if (!fit.problem.empty()) {
    problem = fit.problem;
  } else if (r.spec.prompt.empty()) {
    problem = "the prompt is empty; give at least one token";
  } else if (r.spec.max_new_tokens < 1) {
    problem = "max_tokens is " + std::to_string(r.spec.max_new_tokens) + "; it must be >= 1";
  } else {
    problem = check_images(r.spec, c.hidden);
    if (!r.spec.images.empty() && !device_->computes_logits() && problem.empty()) {
      problem = "the device (" + device_->describe() + ") runs no model and takes no images";
    }
    for (int32_t i = 0; i < r.prompt_len() && problem.empty(); ++i) {
      const int32_t t = r.spec.prompt[static_cast<size_t>(i)];
      if ((t < 0 || t >= c.vocab_size) && image_row(r.spec, i, c.hidden) == nullptr) {
        problem = "token id " + std::to_string(t) + " is outside the vocabulary [0, " +
                  std::to_string(c.vocab_size) + ")";
      }
    }
  }
  if (!problem.empty()) {
    fail(r, problem);
    const uint64_t id = r.id;
    release_ended();
    return id;
  }
  auto pos = std::upper_bound(pending_.begin(), pending_.end(), r.spec.arrival_s,
                              [](double t, const Request* q) { return t < q->spec.arrival_s; });
  pending_.insert(pos, &r);
  return r.id;
}

void Engine::admit_arrivals() {
  const double now = clock_.now();
  while (!pending_.empty() && pending_.front()->spec.arrival_s <= now) {
    live_.push_back(pending_.front());
    pending_.pop_front();
  }
}

Request* Engine::find_live(uint64_t id) {
  Request* r = held(id);
  if (r == nullptr || r->done()) {
    throw std::runtime_error("scheduler referred to request " + std::to_string(id) +
                             " which is not live");
  }
  return r;
}

double Engine::next_arrival() const {
  return pending_.empty() ? std::numeric_limits<double>::infinity()
                          : pending_.front()->spec.arrival_s;
}

bricks_request_view Engine::view_of(const Request& r) const {
  bricks_request_view v{};
  v.id = r.id;
  v.arrival_s = r.spec.arrival_s;
  v.priority = r.spec.priority;
  v.tenant = r.spec.tenant;
  v.state = r.state;
  v.prompt_len = r.prompt_len();
  v.num_tokens = r.num_tokens();
  v.num_computed = r.num_computed;
  v.num_generated = r.num_generated;
  v.max_new_tokens = r.spec.max_new_tokens;
  v.num_preemptions = r.num_preemptions;
  v.turn = r.spec.turn;
  v.conversation = r.spec.conversation;
  v.prefix_group = r.spec.prefix_group;
  v.tokens = r.tokens.data();
  return v;
}

bool Engine::step() {
  admit_arrivals();
  if (live_.empty()) {
    if (pending_.empty()) return false;
    clock_.wait_until(pending_.front()->spec.arrival_s);
    admit_arrivals();
  }
  const double t0 = clock_.now();

  views_.clear();
  for (const Request* r : live_) views_.push_back(view_of(*r));
  bricks_sched_input in{};
  in.struct_size = sizeof(in);
  in.requests = views_.data();
  in.num_requests = static_cast<int32_t>(views_.size());
  in.now_s = t0;
  in.step = stats_.steps;
  in.max_model_len = model_.config.context_length;
  bricks_step_plan plan{};
  scheduler_.schedule(in, plan);

  StepEvent ev;
  ev.step = stats_.steps;
  ev.start_s = t0;
  ev.live = static_cast<int32_t>(views_.size());
  ev.preempted = plan.num_preempted;
  ev.swapped_in = plan.num_swapped_in;
  ev.failed = plan.num_failed;
  const int64_t copied_before = stats_.swapped_bytes;
  std::vector<Request*>& batch = batch_requests_;
  std::vector<int32_t>& counts = batch_counts_;
  batch.clear();
  counts.clear();
  apply_plan(plan, batch, counts);
  if (on_step_) {
    for (size_t i = 0; i < batch.size(); ++i) {
      const Request& r = *batch[i];
      const bool decode = r.num_computed >= r.prompt_len();
      const int32_t arrived = r.kv_arrived(r.num_computed, counts[i]);
      (decode ? ev.decode_seqs : ev.prefill_seqs) += 1;
      (decode ? ev.decode_tokens : ev.prefill_tokens) += counts[i] - arrived;
      ev.arrived_tokens += arrived;
    }
  }

  if (batch.empty()) {
    if (!live_.empty() && ++idle_steps_ >= options_.max_idle_steps) {
      for (Request* r : std::vector<Request*>(live_)) {
        fail(*r, "the scheduler left it unscheduled for " + std::to_string(idle_steps_) +
                     " steps with nothing else running (is the KV cache too small for it?)");
      }
    }
  } else {
    idle_steps_ = 0;
    if (pool_->any_failed_blocks()) drop_lost_kv(batch, counts);
    if (!batch.empty()) execute(batch, counts);
  }
  device_->end_step();
  live_.erase(std::remove_if(live_.begin(), live_.end(), [](Request* r) { return r->done(); }),
              live_.end());
  ++stats_.steps;
  const bricks_kv_stats ks = kv_.stats();
  if (ks.num_device_blocks > 0) {
    const double util = 1.0 - static_cast<double>(ks.free_device_blocks) / ks.num_device_blocks;
    stats_.kv_util_sum += util;
    stats_.kv_util_max = std::max(stats_.kv_util_max, util);
    ev.kv_util = util;
  }
  const double dt = clock_.now() - t0;
  stats_.busy_s += dt;
  if (on_step_) {
    ev.duration_s = dt;
    ev.copied_bytes = stats_.swapped_bytes - copied_before;
    on_step_(ev);
  }
  bricks_step_result res{};
  res.struct_size = sizeof(res);
  res.finished = finished_ids_.data();
  res.num_finished = static_cast<int32_t>(finished_ids_.size());
  res.step_seconds = dt;
  scheduler_.on_step_done(res);
  finished_ids_.clear();
  release_ended();
  return !live_.empty() || !pending_.empty();
}

void Engine::apply_plan(const bricks_step_plan& plan, std::vector<Request*>& batch,
                        std::vector<int32_t>& counts) {
  for (int32_t i = 0; i < plan.num_failed; ++i) {
    Request* r = find_live(plan.failed[i].request_id);
    fail(*r, plan.failed[i].reason != nullptr ? plan.failed[i].reason : "failed by scheduler");
  }
  for (int32_t i = 0; i < plan.num_preempted; ++i) {
    Request* r = find_live(plan.preempted[i].request_id);
    ++r->num_preemptions;
    ++stats_.preemptions;
    if (plan.preempted[i].mode == BRICKS_PREEMPT_SWAP) {
      r->state = BRICKS_REQ_SWAPPED;
    } else {
      r->state = BRICKS_REQ_WAITING;
      r->num_computed = 0;
      groups_->reset(*r);
    }
  }
  for (int32_t i = 0; i < plan.num_swapped_in; ++i) {
    find_live(plan.swapped_in[i])->state = BRICKS_REQ_RUNNING;
  }
  const bricks_block_copy* copies = nullptr;
  const int32_t num_copies = kv_.take_copies(&copies);
  if (num_copies > 0) stats_.swapped_bytes += static_cast<int64_t>(device_->copy_kv(copies, num_copies));

  for (int32_t i = 0; i < plan.num_items; ++i) {
    const bricks_sched_item& it = plan.items[i];
    Request* r = find_live(it.request_id);
    if (r->state == BRICKS_REQ_SWAPPED) {
      throw std::runtime_error("scheduler scheduled request " + std::to_string(r->id) +
                               " while its KV is swapped out");
    }
    if (it.num_cached > 0 && groups_->pruning()) {
      // The cached tokens never ran through the layers after a pruning point.
      fail(*r, "a prefix-cache hit of " + std::to_string(it.num_cached) +
                   " tokens has no KV for the layers after a pruning point; disable the kv "
                   "brick's prefix cache when pruning");
      continue;
    }
    r->num_computed += it.num_cached;
    r->state = BRICKS_REQ_RUNNING;
    if (it.num_tokens < 1 || r->num_computed + it.num_tokens > r->num_tokens()) {
      throw std::runtime_error("scheduler asked request " + std::to_string(r->id) + " for " +
                               std::to_string(it.num_tokens) + " tokens at " +
                               std::to_string(r->num_computed) + " of " +
                               std::to_string(r->num_tokens()));
    }
    if (r->first_scheduled_s < 0) r->first_scheduled_s = clock_.now();
    batch.push_back(r);
    counts.push_back(it.num_tokens);
  }
}

// A lost block is read by a sequence when it holds tokens computed before this step; a block
// whose every token comes in this step is written before attention reads it, so it is good
// again (a freed block that another request took).
void Engine::drop_lost_kv(std::vector<Request*>& batch, std::vector<int32_t>& counts) {
  seqs_.clear();
  for (size_t b = 0; b < batch.size(); ++b) {
    const Request& r = *batch[b];
    seqs_.push_back(bricks_kv_seq{r.id, r.num_computed + counts[b], counts[b]});
  }
  std::vector<int32_t> slots(
      static_cast<size_t>(std::accumulate(counts.begin(), counts.end(), int64_t{0})));
  bricks_page_table table{};
  kv_.build_page_table(0, seqs_.data(), static_cast<int32_t>(batch.size()), table, slots.data());
  const int32_t bs = std::max(1, table.page_size);
  std::vector<std::pair<Request*, std::string>> lost;
  for (size_t b = 0; b < batch.size(); ++b) {
    const int32_t old_pages = (batch[b]->num_computed + bs - 1) / bs;
    std::string reason;
    for (int32_t p = table.indptr[b]; p < table.indptr[b + 1]; ++p) {
      const int32_t block = table.indices[p];
      if (p - table.indptr[b] >= old_pages) {
        pool_->forget_device_failure(block);
      } else if (reason.empty()) {
        reason = pool_->failed_device_block(block);
      }
    }
    if (!reason.empty()) lost.emplace_back(batch[b], std::move(reason));
  }
  for (auto& [r, reason] : lost) {
    const auto at = std::find(batch.begin(), batch.end(), r) - batch.begin();
    batch.erase(batch.begin() + at);
    counts.erase(counts.begin() + at);
    fail(*r, "its KV cache was lost: " + reason);
  }
}

void Engine::execute(const std::vector<Request*>& batch, const std::vector<int32_t>& counts) {
  const auto B = static_cast<int32_t>(batch.size());
  seqs_.clear();
  batch_.clear();
  int32_t total = 0;
  for (int32_t b = 0; b < B; ++b) {
    const Request& r = *batch[b];
    const int32_t n = counts[b];
    batch_.requests.push_back(&r);
    seqs_.push_back(bricks_kv_seq{r.id, r.num_computed + n, n});
    for (int32_t j = 0; j < n; ++j) {
      batch_.token_ids.push_back(r.tokens[r.num_computed + j]);
      batch_.positions.push_back(r.num_computed + j);
    }
    total += n;
    batch_.qo_indptr.push_back(total);
    if (r.num_computed + n == r.num_tokens()) batch_.logit_rows.push_back(total - 1);
  }
  batch_.slots.resize(static_cast<size_t>(total));
  bricks_page_table table{};
  kv_.build_page_table(0, seqs_.data(), B, table, batch_.slots.data());

  if (groups_->pruning()) {
    views_.clear();
    for (const Request* r : batch) views_.push_back(view_of(*r));
    groups_->begin_step(batch, views_, counts);
  }

  const double f0 = clock_.now();
  try {
    device_->forward(batch_, table, logits_);
  } catch (const DeviceStepError& e) {
    // Nothing of the step was computed: its requests fail with the reason, the rest go on.
    stats_.forward_s += clock_.now() - f0;
    if (groups_->pruning()) groups_->end_step();
    for (Request* r : batch) fail(*r, e.what());
    return;
  }
  stats_.forward_s += clock_.now() - f0;
  if (groups_->pruning()) groups_->end_step();
  stats_.batched_tokens += total;

  const bool real = device_->computes_logits();
  const int64_t vocab = static_cast<int64_t>(logits_.size()) /
                        std::max<int64_t>(1, static_cast<int64_t>(batch_.logit_rows.size()));
  if (real && vocab != model_.config.vocab_size && !batch_.logit_rows.empty()) {
    throw std::runtime_error("the device returned " + std::to_string(logits_.size()) +
                             " logits for " + std::to_string(batch_.logit_rows.size()) +
                             " rows of a " + std::to_string(model_.config.vocab_size) +
                             "-token vocabulary");
  }
  size_t row = 0;
  for (int32_t b = 0; b < B; ++b) {
    Request& r = *batch[b];
    const std::string failure = groups_->pruning() ? groups_->failure(b) : std::string();
    if (!failure.empty()) {
      if (r.num_computed + counts[b] == r.num_tokens()) ++row;
      fail(r, failure);
      continue;
    }
    r.num_computed += counts[b];
    kv_.commit(view_of(r), 0);
    if (r.num_computed != r.num_tokens()) continue;  // a prefill chunk: nothing to sample
    if (!real) {
      emit_token(r, synthetic_token(r));
      continue;
    }
    std::span<float> lg(logits_.data() + static_cast<int64_t>(row) * vocab,
                        static_cast<size_t>(vocab));
    ++row;
    if (on_logits_) on_logits_(r, lg);
    if (r.spec.logprobs < 0) {
      emit_token(r, cpu::sample(lg, r.spec.sampling, r.tokens, r.rng));
      continue;
    }
    logprob_row_.assign(lg.begin(), lg.end());  // sampling rewrites lg
    const int32_t token = cpu::sample(lg, r.spec.sampling, r.tokens, r.rng);
    r.logprobs.push_back(logprobs_of(logprob_row_, token, r.spec.logprobs));
    emit_token(r, token);
  }
}

// A token for a device that computes no logits: drawn from the request's own generator,
// never EOS, so the request runs to max_new_tokens as a length-only trace intends.
int32_t Engine::synthetic_token(Request& r) {
  const auto vocab = static_cast<uint64_t>(std::max(2, model_.config.vocab_size));
  const int32_t eos = model_.tokenizer != nullptr ? model_.tokenizer->eos() : -1;
  auto t = static_cast<int32_t>(r.rng.next() % vocab);
  if (t == eos) t = static_cast<int32_t>((static_cast<uint64_t>(t) + 1) % vocab);
  return t;
}

void Engine::emit_token(Request& r, int32_t token) {
  r.tokens.push_back(token);
  ++r.num_generated;
  const double now = clock_.now();
  if (!r.token_times_s.empty()) token_gaps_.add(now - r.token_times_s.back());
  r.token_times_s.push_back(now);
  const model::Tokenizer* tok = model_.tokenizer;
  const bool is_eos =
      (tok != nullptr && token == tok->eos() && !r.spec.ignore_eos) ||
      std::find(r.spec.stop_tokens.begin(), r.spec.stop_tokens.end(), token) !=
          r.spec.stop_tokens.end();
  std::string piece = is_eos || tok == nullptr ? std::string() : tok->piece(token);
  if (!piece.empty()) r.text += piece;
  FinishReason why = FinishReason::kNone;
  for (const std::string& s : r.spec.stop) {
    const size_t at = s.empty() ? std::string::npos : r.text.find(s);
    if (at != std::string::npos) {
      const size_t cut = r.text.size() - at;
      piece = piece.size() >= cut ? piece.substr(0, piece.size() - cut) : std::string();
      r.text.resize(at);
      why = FinishReason::kStop;
      break;
    }
  }
  if (on_token_) on_token_(r, token, piece);
  if (is_eos) why = FinishReason::kStop;
  if (why == FinishReason::kNone && (r.num_generated >= r.spec.max_new_tokens ||
                                     r.num_tokens() >= model_.config.context_length)) {
    why = FinishReason::kLength;
  }
  if (why != FinishReason::kNone) finish(r, why);
}

void Engine::finish(Request& r, FinishReason why) {
  r.finish = why;
  r.finished_s = clock_.now();
  kv_.release(r.id);
  finished_ids_.push_back(r.id);
  ended_.push_back(&r);
  summaries_.push_back(summarize(r));
}

// A request the scheduler has seen (it arrived) is reported to it as finished, so that a
// scheduler keeping per-request state forgets it as it forgets a finished one.
void Engine::fail(Request& r, const std::string& reason) {
  r.failure = reason;
  r.finish = FinishReason::kFailed;
  r.finished_s = clock_.now();
  kv_.release(r.id);
  if (std::find(live_.begin(), live_.end(), &r) != live_.end()) finished_ids_.push_back(r.id);
  ended_.push_back(&r);
  summaries_.push_back(summarize(r));
  count_gaps(r, -1, token_gaps_);
}

void Engine::count_gaps(const Request& r, int64_t sign, ValueCounts& gaps) {
  const std::vector<double>& t = r.token_times_s;
  for (size_t i = 1; i < t.size(); ++i) gaps.add(t[i] - t[i - 1], sign);
}

ValueCounts Engine::finished_token_gaps() const {
  ValueCounts gaps = token_gaps_;
  for (const Request* r : live_) count_gaps(*r, -1, gaps);
  return gaps;
}

void Engine::keep_ended_requests(bool keep) {
  keep_ended_ = keep;
  release_ended();
}

void Engine::release_ended() {
  if (keep_ended_) return;
  for (const Request* r : ended_) requests_[r->id - 1].reset();
  ended_.clear();
}

bool Engine::cancel(uint64_t id, const std::string& reason) {
  Request* held_request = held(id);
  if (held_request == nullptr || held_request->done()) return false;
  Request& r = *held_request;
  auto p = std::find(pending_.begin(), pending_.end(), &r);
  if (p != pending_.end()) pending_.erase(p);
  r.cancelled = true;
  fail(r, reason);
  live_.erase(std::remove(live_.begin(), live_.end(), &r), live_.end());
  release_ended();
  return true;
}

void Engine::drop_ended() {
  for (const Request* r : ended_) requests_[r->id - 1].reset();
  ended_.clear();
  summaries_.clear();
  token_gaps_.clear();
  for (const Request* r : live_) count_gaps(*r, 1, token_gaps_);
}


void Engine::run_to_completion(const std::function<void(const Engine&)>& progress,
                               const std::function<bool()>& stop) {
  while (!(stop && stop()) && step()) {
    if (progress) progress(*this);
  }
  if (progress) progress(*this);
}

}  // namespace bricks::engine
