// A one-line progress bar on stderr for long work (redrawn in place on a terminal,
// printed every few seconds otherwise).
#pragma once

#include <chrono>
#include <string>

namespace bricks::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label, bool enabled = true);
  // Shows done/total and a free-form suffix; cheap to call often.
  void update(size_t done, size_t total, const std::string& suffix = "");
  void finish();

 private:
  std::string label_;
  bool enabled_;
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace bricks::cli
