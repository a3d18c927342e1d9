// One engine behind many HTTP threads. A dedicated thread drives the engine's step loop;
// HTTP threads hand it requests through a locked inbox and read tokens back from each
// request's RequestStream. The scheduler brick decides every step exactly as in
// `bricks run`: the service only feeds the engine and reports what it did.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>

#include "engine/engine.h"
#include "serve/request_stream.h"
#include "serve/serve_metrics.h"

namespace bricks::serve {

struct ServiceOptions {
  // Requests accepted and not yet producing tokens beyond which submit() refuses more.
  int64_t max_queued = 4096;
};

enum class Admission { kAccepted, kQueueFull, kStopping };

class EngineService {
 public:
  // `engine` must outlive the service; only the service's thread touches it from start()
  // until stop() returns.
  EngineService(engine::Engine& engine, ServiceOptions options);
  ~EngineService();  // stop()s

  void start();

  // Hands `spec` to the engine (arrival stamped now on the engine's clock). The stream
  // receives the tokens and then exactly one DoneEvent. Refused (nothing queued) while the
  // queue is full or the service is stopping.
  Admission submit(engine::RequestSpec spec, std::shared_ptr<RequestStream> stream);
  // Ends the stream's request within one step (a client that went away); its KV returns to
  // the pool and its stream still receives a DoneEvent (cancelled).
  void cancel(const std::shared_ptr<RequestStream>& stream);

  // Refuses new requests from now on (graceful shutdown).
  void stop_admitting();
  // Waits until no request is in flight, at most `timeout_s`; true when none is.
  bool wait_idle(double timeout_s);
  // Cancels everything in flight with `reason`, then stops the engine thread.
  void stop(const std::string& reason = "the server is shutting down");

  int64_t in_flight() const;
  // True once stop_admitting() or stop() was called.
  bool stopping() const;
  ServeMetrics& metrics() { return metrics_; }

 private:
  struct Submit {
    engine::RequestSpec spec;
    std::shared_ptr<RequestStream> stream;
  };
  struct Cancel {
    std::shared_ptr<RequestStream> stream;
  };
  using Command = std::variant<Submit, Cancel>;

  void loop();
  void apply(Command& c);
  void on_token(const engine::Request& r, int32_t token, std::string_view piece);
  void deliver_ended();
  void publish_gauges();

  engine::Engine& engine_;
  ServiceOptions options_;
  ServeMetrics metrics_;

  mutable std::mutex mu_;
  std::condition_variable wake_;      // the engine thread: commands or stop
  std::condition_variable idle_cv_;   // wait_idle
  std::deque<Command> inbox_;
  bool admitting_ = true;
  bool stopping_ = false;
  int64_t in_flight_ = 0;             // accepted, DoneEvent not yet pushed
  int64_t queued_ = 0;                // accepted, no token yet and not ended
  std::string stop_reason_;

  // Engine thread only.
  std::unordered_map<uint64_t, std::shared_ptr<RequestStream>> by_engine_id_;
  bool woke_clients_ = false;  // a stream was signalled in this step
  std::thread thread_;
};

}  // namespace bricks::serve
