// Lookup tables shared by the tokenizers: token text -> id, and merge pair -> rank.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bricks::model {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenIds = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// Pairs are keyed as left + '\xFF' + right: 0xFF never occurs in UTF-8, so keys are unique.
class MergeRanks {
 public:
  void build(const std::vector<std::pair<std::string, std::string>>& merges) {
    ranks_.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      ranks_.emplace(key(merges[i].first, merges[i].second), static_cast<int32_t>(i));
    }
  }
  // Rank of the pair, or -1 when it is not a merge.
  int32_t rank(std::string_view a, std::string_view b) const {
    std::string k = key(a, b);
    auto it = ranks_.find(k);
    return it == ranks_.end() ? -1 : it->second;
  }
  bool empty() const { return ranks_.empty(); }

 private:
  static std::string key(std::string_view a, std::string_view b) {
    std::string k;
    k.reserve(a.size() + b.size() + 1);
    k.append(a).push_back('\xFF');
    k.append(b);
    return k;
  }
  TokenIds ranks_;
};

}  // namespace bricks::model
