// The bricks_host_api the host gives each brick instance: logging tagged with the brick's
// name, a settable monotonic clock, aligned memory, errors, and the bricks it is wired to.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bricks/abi.h"

namespace bricks::host {

// The clock every instance of one Registry reads; replaceable (a simulated device brings
// its own). Not synchronised: set it before instances run.
struct ClockSource {
  std::function<double()> now_s;
};
// Seconds on std::chrono::steady_clock.
double steady_now_s();

// One instance's side of the host API. Its address is the api's ctx, so it never moves:
// hold it by unique_ptr. Used by one thread at a time, as the instance is.
class HostContext {
 public:
  HostContext(std::string brick_name, std::shared_ptr<const ClockSource> clock);
  HostContext(const HostContext&) = delete;
  HostContext& operator=(const HostContext&) = delete;

  // Valid as long as this context lives.
  const bricks_host_api* api() const { return &api_; }
  const std::string& brick_name() const { return name_; }
  // Makes `ref` visible through api()->wired; the first ref of a kind wins.
  void wire(const bricks_brick_ref& ref) { wired_.push_back(ref); }
  const std::vector<bricks_brick_ref>& wired() const { return wired_; }

 private:
  static void log(void* ctx, bricks_log_level level, const char* message);
  static double now_s(void* ctx);
  static void* alloc_aligned(void* ctx, size_t bytes, size_t alignment);
  static void free_aligned(void* ctx, void* ptr);
  static bricks_brick_ref wired_ref(void* ctx, bricks_kind kind);

  bricks_host_api api_;
  std::string name_;
  std::shared_ptr<const ClockSource> clock_;
  std::vector<bricks_brick_ref> wired_;
};

}  // namespace bricks::host
