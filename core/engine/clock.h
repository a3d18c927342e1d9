// The engine's clock: wall time on real devices, simulated time on the sim device.
#pragma once

#include <chrono>
#include <thread>

namespace bricks::engine {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the run started.
  virtual double now() const = 0;
  // Returns once now() >= t (a real clock sleeps, a simulated one jumps).
  virtual void wait_until(double t) = 0;
  // Makes now() 0 again: the engine calls it once it is built, so that the time taken to
  // set up the device and the KV pool is not counted as requests waiting.
  virtual void restart() = 0;
};

class WallClock final : public Clock {
 public:
  WallClock() : start_(std::chrono::steady_clock::now()) {}
  double now() const override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void wait_until(double t) override {
    const double dt = t - now();
    if (dt > 0) std::this_thread::sleep_for(std::chrono::duration<double>(dt));
  }
  void restart() override { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Time that moves only when told: the sim device advances it by each step's modelled
// duration, and waiting for an arrival jumps to it.
class SimClock final : public Clock {
 public:
  double now() const override { return t_; }
  void wait_until(double t) override {
    if (t > t_) t_ = t;
  }
  void restart() override { t_ = 0.0; }
  void advance(double seconds) {
    if (seconds > 0) t_ += seconds;
  }

 private:
  double t_ = 0.0;
};

}  // namespace bricks::engine
