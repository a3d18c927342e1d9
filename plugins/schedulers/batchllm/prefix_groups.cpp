#include "prefix_groups.h"

#include <algorithm>
#include <numeric>

namespace bricks::batchllm {

namespace {

double decode_ratio(const bricks_request_view& r) {
  return static_cast<double>(r.max_new_tokens) / static_cast<double>(std::max(r.prompt_len, 1));
}

}  // namespace

void PrefixGrouper::build(const bricks_request_view* requests, int32_t n) {
  ++generation_;
  groups_.clear();
  placement_.clear();
  if (n <= 0) return;
  sort_prompts(requests, n);
  build_intervals(n);
  assign_groups(n);
  order(requests);
}

void PrefixGrouper::sort_prompts(const bricks_request_view* requests, int32_t n) {
  const int32_t bs = rule_.block_size;
  key_blocks_.assign(static_cast<size_t>(n), 0);
  for (int32_t i = 0; i < n; ++i) {
    const bricks_request_view& r = requests[i];
    if (r.tokens == nullptr) continue;
    key_blocks_[static_cast<size_t>(i)] =
        std::max(0, std::min(r.prompt_len, r.num_tokens - 1)) / bs;
  }
  auto key = [&](int32_t i) {
    const int32_t* t = requests[i].tokens;
    return std::pair<const int32_t*, const int32_t*>(
        t, t == nullptr ? t : t + static_cast<size_t>(key_blocks_[static_cast<size_t>(i)]) * bs);
  };
  sorted_.resize(static_cast<size_t>(n));
  std::iota(sorted_.begin(), sorted_.end(), 0);
  std::stable_sort(sorted_.begin(), sorted_.end(), [&](int32_t a, int32_t b) {
    const auto [a0, a1] = key(a);
    const auto [b0, b1] = key(b);
    return std::lexicographical_compare(a0, a1, b0, b1);
  });
  lcp_.assign(static_cast<size_t>(n), 0);
  for (int32_t k = 1; k < n; ++k) {
    const auto [a0, a1] = key(sorted_[static_cast<size_t>(k - 1)]);
    const auto [b0, b1] = key(sorted_[static_cast<size_t>(k)]);
    const ptrdiff_t common = std::min(a1 - a0, b1 - b0);
    if (common <= 0) continue;
    const ptrdiff_t same = std::mismatch(a0, a0 + common, b0).first - a0;
    lcp_[static_cast<size_t>(k)] = static_cast<int32_t>(same / bs);
  }
}

void PrefixGrouper::finish(Interval& v) const {
  const int32_t count = v.rb - v.lb + 1;
  int64_t below = 0;
  int32_t leftover = count;
  for (int32_t c : v.children) {
    const Interval& child = intervals_[static_cast<size_t>(c)];
    below += child.saved;
    leftover -= (child.rb - child.lb + 1) - child.leftover;
  }
  const bool long_enough = v.lcp >= rule_.min_prefix_blocks;
  v.saved = below;
  v.leftover = leftover;
  v.choice = Choice::kNone;
  if (long_enough && leftover >= rule_.min_group_size) {
    v.saved += static_cast<int64_t>(leftover - 1) * v.lcp;
    v.leftover = 0;
    v.choice = Choice::kLeftovers;
  }
  const int64_t all = static_cast<int64_t>(count - 1) * v.lcp;
  if (long_enough && count >= rule_.min_group_size && all > v.saved) {
    v.saved = all;
    v.leftover = 0;
    v.choice = Choice::kAll;
  }
}

// The bottom-up LCP-interval traversal: intervals close in post order, so every child is
// finished (and its `saved` known) before its parent.
void PrefixGrouper::build_intervals(int32_t n) {
  intervals_.clear();
  std::vector<Interval> open(1);  // the root: every request, 0 shared blocks
  for (int32_t k = 1; k <= n; ++k) {
    const int32_t cur = k < n ? lcp_[static_cast<size_t>(k)] : 0;
    int32_t lb = k - 1;
    int32_t last = -1;
    while (cur < open.back().lcp) {
      Interval top = std::move(open.back());
      open.pop_back();
      top.rb = k - 1;
      finish(top);
      lb = top.lb;
      intervals_.push_back(std::move(top));
      last = static_cast<int32_t>(intervals_.size()) - 1;
      if (cur <= open.back().lcp) {
        open.back().children.push_back(last);
        last = -1;
      }
    }
    if (cur > open.back().lcp) {
      Interval v;
      v.lcp = cur;
      v.lb = lb;
      if (last >= 0) v.children.push_back(last);
      open.push_back(std::move(v));
    }
  }
  Interval root = std::move(open.back());
  root.rb = n - 1;
  finish(root);
  intervals_.push_back(std::move(root));
}

void PrefixGrouper::add_group(int32_t lcp, int32_t lb, int32_t rb) {
  PrefixGroup g;
  g.prefix_tokens = lcp * rule_.block_size;
  const int32_t index = static_cast<int32_t>(groups_.size());
  for (int32_t k = lb; k <= rb; ++k) {
    const int32_t i = sorted_[static_cast<size_t>(k)];
    if (group_of_[static_cast<size_t>(i)] >= 0) continue;  // a deeper group took it
    group_of_[static_cast<size_t>(i)] = index;
    g.members.push_back(static_cast<uint64_t>(i));  // request index until order()
  }
  groups_.push_back(std::move(g));
}

// Depth is bounded by the longest prompt in blocks.
void PrefixGrouper::assign(int32_t interval) {
  const Interval& v = intervals_[static_cast<size_t>(interval)];
  if (v.choice != Choice::kAll) {
    for (int32_t c : v.children) assign(c);
  }
  if (v.choice != Choice::kNone) add_group(v.lcp, v.lb, v.rb);
}

void PrefixGrouper::assign_groups(int32_t n) {
  group_of_.assign(static_cast<size_t>(n), -1);
  assign(static_cast<int32_t>(intervals_.size()) - 1);
  for (int32_t i = 0; i < n; ++i) {
    if (group_of_[static_cast<size_t>(i)] >= 0) continue;
    group_of_[static_cast<size_t>(i)] = static_cast<int32_t>(groups_.size());
    groups_.push_back(PrefixGroup{0, {static_cast<uint64_t>(i)}});
  }
}

void PrefixGrouper::order(const bricks_request_view* requests) {
  // Higher decode ratio first, then earlier arrival (lower index).
  auto before = [&](uint64_t a, uint64_t b) {
    const double ra = decode_ratio(requests[a]);
    const double rb = decode_ratio(requests[b]);
    return ra != rb ? ra > rb : a < b;
  };
  for (PrefixGroup& g : groups_) std::sort(g.members.begin(), g.members.end(), before);
  std::vector<int32_t> by_rank(groups_.size());
  std::iota(by_rank.begin(), by_rank.end(), 0);
  auto earliest = [&](const PrefixGroup& g) {
    return *std::min_element(g.members.begin(), g.members.end());
  };
  std::sort(by_rank.begin(), by_rank.end(), [&](int32_t x, int32_t y) {
    const PrefixGroup& gx = groups_[static_cast<size_t>(x)];
    const PrefixGroup& gy = groups_[static_cast<size_t>(y)];
    const double rx = decode_ratio(requests[gx.members.front()]);
    const double ry = decode_ratio(requests[gy.members.front()]);
    if (rx != ry) return rx > ry;
    return earliest(gx) < earliest(gy);
  });
  std::vector<PrefixGroup> ordered;
  ordered.reserve(groups_.size());
  int64_t rank = 0;
  for (int32_t g : by_rank) {
    PrefixGroup& src = groups_[static_cast<size_t>(g)];
    const int32_t index = static_cast<int32_t>(ordered.size());
    for (uint64_t& m : src.members) {
      m = requests[m].id;
      placement_[m] = Placement{index, rank++};
    }
    ordered.push_back(std::move(src));
  }
  groups_ = std::move(ordered);
}

}  // namespace bricks::batchllm
