// The channel between the engine thread and the HTTP thread serving one request: the
// engine pushes tokens and a final event, the HTTP side waits on fd() (with its socket, in
// one poll) and takes what has arrived.
//
// Thread safety: push_* from one thread (the engine's), take() and fd() from another.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/request.h"

namespace bricks::serve {

struct TokenEvent {
  int32_t token = 0;
  std::string piece;                       // bytes it adds to the text (may split a UTF-8 char)
  std::optional<engine::GeneratedLogprobs> logprobs;  // when the request asked for them
};

// How the request ended, with what the response needs of it.
struct DoneEvent {
  engine::FinishReason finish = engine::FinishReason::kNone;
  bool cancelled = false;
  std::string failure;        // when finish is kFailed
  std::string text;           // the whole generated text, stop strings cut
  int32_t prompt_tokens = 0, completion_tokens = 0;
  // On the engine's clock, from the request's arrival: first token and end (-1: none).
  double ttft_s = -1, e2e_s = -1;
};

class RequestStream {
 public:
  RequestStream();  // throws std::system_error when no eventfd can be made
  ~RequestStream();
  RequestStream(const RequestStream&) = delete;
  RequestStream& operator=(const RequestStream&) = delete;

  // Readable (POLLIN) while events wait to be taken.
  int fd() const { return fd_; }

  void push_token(TokenEvent e);
  void push_done(DoneEvent e);

  // Moves the waiting tokens into `tokens` (appended) and the final event, if it came, into
  // `done`; clears the readiness of fd().
  void take(std::vector<TokenEvent>& tokens, std::optional<DoneEvent>& done);

  // Set by the engine thread once the engine accepted the request.
  uint64_t engine_id = 0;
  bool started = false;  // its first token came (engine thread only)

 private:
  void signal();
  int fd_ = -1;
  std::mutex mu_;
  std::vector<TokenEvent> tokens_;
  std::optional<DoneEvent> done_;
};

}  // namespace bricks::serve
