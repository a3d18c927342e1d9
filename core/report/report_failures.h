// Failed requests counted by reason, so that a rare second reason is not hidden behind ten
// examples of the first: every failure is counted, a few are kept as examples.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bricks::engine {

struct FailureReason {
  std::string reason;                 // the reason with its numbers written as N
  size_t count = 0;                   // failures with this reason
  std::vector<std::string> examples;  // "request 7: <the full reason>" (the first few)
};

class FailureTally {
 public:
  static constexpr size_t kExamples = 3;

  // Counts one failure of `who` (e.g. "request 7"). Reasons that differ only in their
  // numbers (a prompt length, a block count) are one reason.
  void add(std::string_view who, std::string_view reason);

  // Most frequent first; ties in the order they were first seen.
  std::vector<FailureReason> by_count() const;
  size_t total() const { return total_; }
  bool empty() const { return total_ == 0; }

  // [{"reason", "count", "examples"}...], most frequent first.
  nlohmann::json to_json() const;

 private:
  std::vector<FailureReason> reasons_;  // in the order first seen
  size_t total_ = 0;
};

// `reason` with every run of decimal digits (and a decimal point inside one) replaced by N.
std::string reason_pattern(std::string_view reason);

}  // namespace bricks::engine
