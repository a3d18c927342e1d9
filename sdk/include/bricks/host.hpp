// bricks/host.hpp: a brick's handle on the host (logging, clock, memory, wired bricks).
#pragma once

#include <cstddef>
#include <string>

#include "bricks/abi.h"

namespace bricks {

class Host {
 public:
  explicit Host(const bricks_host_api* api) : api_(api) {}

  const bricks_host_api* api() const { return api_; }
  void log(bricks_log_level level, const std::string& message) const {
    api_->log(api_->ctx, level, message.c_str());
  }
  void info(const std::string& m) const { log(BRICKS_LOG_INFO, m); }
  void warn(const std::string& m) const { log(BRICKS_LOG_WARN, m); }
  void debug(const std::string& m) const { log(BRICKS_LOG_DEBUG, m); }
  double now() const { return api_->now_s(api_->ctx); }
  void* alloc(size_t bytes, size_t alignment = 64) const {
    return api_->alloc_aligned(api_->ctx, bytes, alignment);
  }
  void free(void* p) const { api_->free_aligned(api_->ctx, p); }
  bricks_brick_ref wired(bricks_kind kind) const { return api_->wired(api_->ctx, kind); }

 private:
  const bricks_host_api* api_;
};

}  // namespace bricks
