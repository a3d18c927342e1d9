#include "host/did_you_mean.h"

#include <algorithm>
#include <cctype>

namespace bricks::host {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Levenshtein distance with a single rolling row.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
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
