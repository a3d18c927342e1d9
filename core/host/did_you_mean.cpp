#include "host/did_you_mean.h"

#include <algorithm>
#include <cctype>

namespace bricks::host {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Edit distance counting insertions, deletions, substitutions and swaps of adjacent
// characters (optimal string alignment), the usual shapes of a typo.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        row[j] = std::min(row[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, row);
  }
  return previous[b.size()];
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (prefix.size() > text.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (lower(text[i]) != lower(prefix[i])) return false;
  }
  return true;
}

}  // namespace

std::string did_you_mean(std::string_view word, const std::vector<std::string>& options) {
  if (word.empty()) return "";
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& option : options) {
    size_t d = edit_distance(word, option);
    if (d < best_distance) {
      best = option;
      best_distance = d;
    }
  }
  if (!best.empty()) return best;
  // A prefix of a longer name ("sara" for "sarathi") is a likely intent too.
  if (word.size() >= 3) {
    for (const std::string& option : options) {
      if (starts_with_ci(option, word)) return option;
    }
  }
  return "";
}

std::string did_you_mean_suffix(std::string_view word, const std::vector<std::string>& options) {
  std::string best = did_you_mean(word, options);
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

}  // namespace bricks::host
