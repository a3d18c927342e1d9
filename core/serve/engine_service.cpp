#include "serve/engine_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "report/report.h"

namespace bricks::serve {

EngineService::EngineService(engine::Engine& engine, ServiceOptions options)
    : engine_(engine), options_(options) {}

EngineService::~EngineService() { stop(); }

void EngineService::start() {
  engine_.set_token_callback([this](const engine::Request& r, int32_t token,
                                    std::string_view piece) { on_token(r, token, piece); });
  thread_ = std::thread([this] { loop(); });
}

Admission EngineService::submit(engine::RequestSpec spec, std::shared_ptr<RequestStream> stream) {
  std::lock_guard lock(mu_);
  if (!admitting_ || stopping_) return Admission::kStopping;
  if (queued_ >= options_.max_queued) return Admission::kQueueFull;
  spec.arrival_s = engine_.now();  // the clock is safe to read from any thread
  ++queued_;
  ++in_flight_;
  inbox_.push_back(Submit{std::move(spec), std::move(stream)});
  wake_.notify_one();
  return Admission::kAccepted;
}

void EngineService::cancel(const std::shared_ptr<RequestStream>& stream) {
  std::lock_guard lock(mu_);
  inbox_.push_back(Cancel{stream});
  wake_.notify_one();
}

void EngineService::stop_admitting() {
  std::lock_guard lock(mu_);
  admitting_ = false;
}

bool EngineService::wait_idle(double timeout_s) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                           [&] { return in_flight_ == 0; });
}

void EngineService::stop(const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    admitting_ = false;
    stopping_ = true;
    stop_reason_ = reason;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

bool EngineService::stopping() const {
  std::lock_guard lock(mu_);
  return !admitting_ || stopping_;
}

int64_t EngineService::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

void EngineService::loop() {
  std::deque<Command> commands;
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      const bool busy = engine_.num_live() + engine_.num_pending() > 0;
      if (!busy) wake_.wait(lock, [&] { return !inbox_.empty() || stopping_; });
      commands.swap(inbox_);
      stopping = stopping_;
    }
    for (Command& c : commands) apply(c);
    commands.clear();
    if (stopping) {
      // Everything still in flight ends now, each stream told why.
      std::vector<uint64_t> ids;
      for (const auto& [id, s] : by_engine_id_) ids.push_back(id);
      std::sort(ids.begin(), ids.end());
      for (uint64_t id : ids) engine_.cancel(id, stop_reason_);
      deliver_ended();
      publish_gauges();
      return;
    }
    if (engine_.num_live() + engine_.num_pending() > 0) {
      try {
        engine_.step();
      } catch (const std::exception& e) {
        // A broken brick or device: nothing in flight can go on; each request fails with
        // the reason rather than hanging its client.
        spdlog::error("engine step failed: {}", e.what());
        std::vector<uint64_t> ids;
        for (const auto& [id, s] : by_engine_id_) ids.push_back(id);
        for (uint64_t id : ids) engine_.cancel(id, std::string("engine error: ") + e.what());
      }
    }
    deliver_ended();
    publish_gauges();
    if (woke_clients_) {
      // The HTTP threads just signalled wait for a core, and on a machine whose cores all
      // run the forward pass they would wait a scheduler slice (milliseconds) for one:
      // offering ours first lets them write their tokens before the next step starts.
      woke_clients_ = false;
      std::this_thread::yield();
    }
  }
}

void EngineService::apply(Command& c) {
  if (auto* s = std::get_if<Submit>(&c)) {
    const uint64_t id = engine_.submit(std::move(s->spec));
    s->stream->engine_id = id;
    by_engine_id_[id] = std::move(s->stream);
    return;
  }
  auto& cancel = std::get<Cancel>(c);
  // A request whose submit is still ahead in this batch cannot be: commands keep order.
  if (cancel.stream->engine_id != 0) {
    engine_.cancel(cancel.stream->engine_id, "the client closed the connection");
  }
}

void EngineService::on_token(const engine::Request& r, int32_t token, std::string_view piece) {
  auto it = by_engine_id_.find(r.id);
  if (it == by_engine_id_.end()) return;
  RequestStream& s = *it->second;
  if (!s.started) {
    s.started = true;
    std::lock_guard lock(mu_);
    --queued_;
  }
  TokenEvent e;
  e.token = token;
  e.piece = std::string(piece);
  if (r.spec.logprobs >= 0 && !r.logprobs.empty()) e.logprobs = r.logprobs.back();
  s.push_token(std::move(e));
  woke_clients_ = true;
}

void EngineService::deliver_ended() {
  int64_t ended = 0, unstarted = 0;
  for (const engine::Request* r : engine_.ended()) {
    auto it = by_engine_id_.find(r->id);
    if (it == by_engine_id_.end()) continue;
    std::shared_ptr<RequestStream> stream = std::move(it->second);
    by_engine_id_.erase(it);
    DoneEvent d;
    d.finish = r->finish;
    d.cancelled = r->cancelled;
    d.failure = r->failure;
    d.text = r->text;
    d.prompt_tokens = r->prompt_len();
    d.completion_tokens = r->num_generated;
    const engine::RequestRecord rec = engine::record_of(*r);
    d.ttft_s = rec.ttft_s;
    d.e2e_s = rec.e2e_s;
    const char* outcome = r->cancelled ? "cancelled"
                          : r->finish == engine::FinishReason::kFailed ? "error"
                          : r->finish == engine::FinishReason::kStop   ? "stop"
                                                                       : "length";
    metrics_.request_ended(outcome, rec.prompt_tokens, rec.output_tokens, rec.ttft_s,
                           rec.tpot_s, rec.e2e_s);
    if (!stream->started) ++unstarted;
    stream->push_done(std::move(d));
    woke_clients_ = true;
    ++ended;
  }
  engine_.drop_ended();
  if (ended > 0) {
    std::lock_guard lock(mu_);
    in_flight_ -= ended;
    queued_ -= unstarted;
    if (in_flight_ == 0) idle_cv_.notify_all();
  }
}

void EngineService::publish_gauges() {
  EngineGauges g;
  {
    std::lock_guard lock(mu_);
    g.waiting = queued_;
    g.running = in_flight_ - queued_;
  }
  const bricks_kv_stats ks = engine_.kv_stats();
  if (ks.num_device_blocks > 0) {
    g.kv_usage = 1.0 - static_cast<double>(ks.free_device_blocks) / ks.num_device_blocks;
  }
  if (ks.prefix_query_tokens > 0) {
    g.prefix_hit_rate = static_cast<double>(ks.prefix_hit_tokens) / ks.prefix_query_tokens;
  }
  g.preemptions = engine_.stats().preemptions;
  g.steps = engine_.stats().steps;
  metrics_.set_gauges(g);
}

}  // namespace bricks::serve
