#include "report/report_failures.h"

#include <algorithm>
#include <cctype>

namespace bricks::engine {

namespace {
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
}  // namespace

std::string reason_pattern(std::string_view reason) {
  std::string out;
  out.reserve(reason.size());
  for (size_t i = 0; i < reason.size();) {
    if (!is_digit(reason[i])) {
      out += reason[i++];
      continue;
    }
    while (i < reason.size() &&
           (is_digit(reason[i]) ||
            (reason[i] == '.' && i + 1 < reason.size() && is_digit(reason[i + 1])))) {
      ++i;
    }
    out += 'N';
  }
  return out;
}

void FailureTally::add(std::string_view who, std::string_view reason) {
  ++total_;
  const std::string pattern = reason_pattern(reason);
  auto it = std::find_if(reasons_.begin(), reasons_.end(),
                         [&](const FailureReason& r) { return r.reason == pattern; });
  if (it == reasons_.end()) {
    reasons_.push_back({pattern, 0, {}});
    it = reasons_.end() - 1;
  }
  ++it->count;
  if (it->examples.size() < kExamples) {
    it->examples.push_back(std::string(who) + ": " + std::string(reason));
  }
}

std::vector<FailureReason> FailureTally::by_count() const {
  std::vector<FailureReason> out = reasons_;
  std::stable_sort(out.begin(), out.end(), [](const FailureReason& a, const FailureReason& b) {
    return a.count > b.count;
  });
  return out;
}

nlohmann::json FailureTally::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const FailureReason& r : by_count()) {
    out.push_back({{"reason", r.reason}, {"count", r.count}, {"examples", r.examples}});
  }
  return out;
}

}  // namespace bricks::engine
