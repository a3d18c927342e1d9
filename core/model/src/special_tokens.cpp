#include "special_tokens.h"

#include <algorithm>

namespace bricks::model {

void SpecialTokens::add(std::string text, int32_t id) {
  if (text.empty()) return;
  tokens_.emplace_back(std::move(text), id);
  std::stable_sort(tokens_.begin(), tokens_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

std::vector<TextOrToken> SpecialTokens::split(std::string_view text) const {
  std::vector<TextOrToken> out;
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    int32_t hit = -1;
    size_t len = 0;
    for (const auto& [t, id] : tokens_) {
      if (text.compare(i, t.size(), t) == 0) {
        hit = id;
        len = t.size();
        break;
      }
    }
    if (hit < 0) {
      ++i;
      continue;
    }
    if (i > start) out.push_back({text.substr(start, i - start), -1});
    out.push_back({{}, hit});
    i += len;
    start = i;
  }
  if (start < text.size()) out.push_back({text.substr(start), -1});
  return out;
}

}  // namespace bricks::model
