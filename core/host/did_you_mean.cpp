#include "host/did_you_mean.h"

#include <algorithm>
#include <cctype>

namespace bricks::host {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

int edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  // Three rows of the optimal-string-alignment table: i-2, i-1 and i.
  std::vector<int> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& options) {
  const std::string w = lower(word);
  const int limit = w.size() <= 3 ? 1 : std::max<int>(2, static_cast<int>(w.size()) / 3);
  std::optional<std::string> best;
  int best_distance = 0;
  for (const std::string& option : options) {
    const std::string o = lower(option);
    const int d = edit_distance(w, o);
    // A long shared start also counts as close: "pruner" for "pruning".
    size_t common = 0;
    while (common < w.size() && common < o.size() && w[common] == o[common]) ++common;
    const bool close = d <= limit || (common >= 4 && 2 * common >= w.size());
    if (close && (!best || d < best_distance)) {
      best_distance = d;
      best = option;
    }
  }
  return best;
}

std::string did_you_mean_suffix(std::string_view word, const std::vector<std::string>& options) {
  const std::optional<std::string> match = closest_match(word, options);
  return match ? " (did you mean '" + *match + "'?)" : "";
}

std::string suggest(std::string_view word, const std::vector<std::string>& options,
                    std::string_view if_empty) {
  if (options.empty()) return std::string(if_empty);
  if (auto match = closest_match(word, options)) return "did you mean '" + *match + "'?";
  return "one of: " + join(options);
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

}  // namespace bricks::host
