#include "serve/request_stream.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace bricks::serve {

RequestStream::RequestStream() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

RequestStream::~RequestStream() { ::close(fd_); }

void RequestStream::signal() {
  const uint64_t one = 1;
  // The counter cannot overflow in practice (2^64 - 2 signals); EAGAIN would only mean
  // it is already readable, which is all a signal has to achieve.
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

void RequestStream::push_token(TokenEvent e) {
  {
    std::lock_guard lock(mu_);
    tokens_.push_back(std::move(e));
  }
  signal();
}

void RequestStream::push_done(DoneEvent e) {
  {
    std::lock_guard lock(mu_);
    done_ = std::move(e);
  }
  signal();
}

void RequestStream::take(std::vector<TokenEvent>& tokens, std::optional<DoneEvent>& done) {
  uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(fd_, &count, sizeof count);  // resets readiness
  std::lock_guard lock(mu_);
  for (TokenEvent& t : tokens_) tokens.push_back(std::move(t));
  tokens_.clear();
  if (done_) done = std::move(done_);
  done_.reset();
}

}  // namespace bricks::serve
