// BatchLLM's global prefix identification and request order.
//
// Over the prompts of every live request, a compact prefix tree at block granularity is
// built: the prompts are sorted as token sequences, and the longest common prefix (in whole
// blocks) of each sorted neighbour pair gives the tree's inner nodes as LCP intervals. Each
// request then joins at most one group (single-level sharing, as in the paper), whose prefix
// is the prefix of a tree node. Bottom-up, each node chooses what saves the most prompt
// blocks, counting (members - 1) * prefix_blocks per group:
//   all       - every request below it forms one group with the node's prefix; or
//   leftovers - the groups chosen below it stand, and the requests none of them took form
//               one group with the node's prefix (when there are enough of them).
// A group needs >= min_group_size requests and a prefix of >= min_prefix_blocks blocks.
// Requests in no group are groups of one with no shared prefix.
//
// Order: groups by their highest decode/prefill ratio (max_new_tokens / prompt_len), highest
// first, ties by earliest arrival; within a group, members the same way. The first member
// (the leader) computes the shared prefix; the others follow once it is cached.
//
// Only full blocks of the prompt that lookup_prefix could return count: at most
// (min(prompt_len, num_tokens - 1)) / block_size blocks. Not thread-safe.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "bricks/abi.h"

namespace bricks::batchllm {

struct GroupingRule {
  int32_t block_size = 16;
  int32_t min_group_size = 2;     // requests sharing a prefix before it is worth a group
  int32_t min_prefix_blocks = 1;  // shared prefix blocks before it is worth a group
};

struct PrefixGroup {
  int32_t prefix_tokens = 0;      // shared prefix, a multiple of block_size; 0: none
  std::vector<uint64_t> members;  // admission order, leader first
};

struct Placement {
  int32_t group = 0;  // index into groups()
  int64_t rank = 0;   // position in the global admission order, from 0
};

class PrefixGrouper {
 public:
  explicit PrefixGrouper(GroupingRule rule) : rule_(rule) {}

  // Groups and orders `requests` (tokens must be valid for the call only); replaces what an
  // earlier build found.
  void build(const bricks_request_view* requests, int32_t num_requests);
  // Where request `id` is, or nullptr when the last build did not see it.
  const Placement* find(uint64_t id) const {
    auto it = placement_.find(id);
    return it == placement_.end() ? nullptr : &it->second;
  }
  const std::vector<PrefixGroup>& groups() const { return groups_; }
  // Incremented by every build, so that callers can tell group indices apart over time.
  uint64_t generation() const { return generation_; }

 private:
  // A node of the prefix tree: sorted positions [lb, rb] share `lcp` leading blocks.
  enum class Choice : uint8_t { kNone, kAll, kLeftovers };
  struct Interval {
    int32_t lcp = 0;
    int32_t lb = 0;
    int32_t rb = 0;
    std::vector<int32_t> children;  // indices into intervals_
    int64_t saved = 0;              // best blocks saved within this subtree
    int32_t leftover = 0;           // requests below that no group takes, under that choice
    Choice choice = Choice::kNone;
  };

  void sort_prompts(const bricks_request_view* requests, int32_t n);
  void build_intervals(int32_t n);
  void finish(Interval& v) const;
  void assign_groups(int32_t n);
  void assign(int32_t interval);
  void add_group(int32_t lcp, int32_t lb, int32_t rb);
  void order(const bricks_request_view* requests);

  GroupingRule rule_;
  uint64_t generation_ = 0;
  std::vector<int32_t> key_blocks_;  // per request index: blocks that may be shared
  std::vector<int32_t> sorted_;      // request indices in token order
  std::vector<int32_t> lcp_;         // lcp_[k]: shared blocks of sorted_[k-1] and sorted_[k]
  std::vector<Interval> intervals_;
  std::vector<int32_t> group_of_;  // per request index
  std::vector<PrefixGroup> groups_;
  std::unordered_map<uint64_t, Placement> placement_;
};

}  // namespace bricks::batchllm
