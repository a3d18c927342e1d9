#include "host/host_api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>

#include "host/host_error.h"

namespace bricks::host {
namespace {

spdlog::level::level_enum spdlog_level(bricks_log_level level) {
  switch (level) {
    case BRICKS_LOG_TRACE:
      return spdlog::level::trace;
    case BRICKS_LOG_DEBUG:
      return spdlog::level::debug;
    case BRICKS_LOG_INFO:
      return spdlog::level::info;
    case BRICKS_LOG_WARN:
      return spdlog::level::warn;
    case BRICKS_LOG_ERROR:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

double steady_now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

HostContext::HostContext(std::string brick_name, std::shared_ptr<const ClockSource> clock)
    : api_{}, name_(std::move(brick_name)), clock_(std::move(clock)) {
  api_.struct_size = sizeof(bricks_host_api);
  api_.ctx = this;
  api_.log = &HostContext::log;
  api_.now_s = &HostContext::now_s;
  api_.alloc_aligned = &HostContext::alloc_aligned;
  api_.free_aligned = &HostContext::free_aligned;
  api_.error_new = &make_error;
  api_.wired = &HostContext::wired_ref;
  api_.error_message = &error_message_c;
  api_.error_free = &free_error;
}

// Every callback below is reached from brick code through the C boundary: none may throw.

void HostContext::log(void* ctx, bricks_log_level level, const char* message) {
  try {
    auto* self = static_cast<HostContext*>(ctx);
    spdlog::log(spdlog_level(level), "[{}] {}", self->name_, message != nullptr ? message : "");
  } catch (...) {
    // A log line that cannot be written is dropped rather than unwinding into the brick.
  }
}

double HostContext::now_s(void* ctx) {
  auto* self = static_cast<HostContext*>(ctx);
  try {
    if (self->clock_ && self->clock_->now_s) return self->clock_->now_s();
  } catch (...) {
    // A failing custom clock falls back to the real one rather than crossing the boundary.
  }
  return steady_now_s();
}

void* HostContext::alloc_aligned(void*, size_t bytes, size_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) return nullptr;
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  if (rounded < bytes) return nullptr;  // overflow
  if (rounded == 0) rounded = alignment;
  return std::aligned_alloc(alignment, rounded);
}

void HostContext::free_aligned(void*, void* ptr) { std::free(ptr); }

bricks_brick_ref HostContext::wired_ref(void* ctx, bricks_kind kind) {
  auto* self = static_cast<HostContext*>(ctx);
  for (const bricks_brick_ref& ref : self->wired_) {
    if (ref.kind == kind) return ref;
  }
  return bricks_brick_ref{};
}

}  // namespace bricks::host
