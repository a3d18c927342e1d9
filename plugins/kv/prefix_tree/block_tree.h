// The device block pool of kv/prefix_tree: a prefix tree (radix tree over whole blocks) whose
// nodes are device blocks.
//
// A node is a full block of block_size tokens; its parent is the block before it in every
// sequence that holds it, the root's children are first blocks. A request holds a chain of
// nodes from the root (its cached prefix) followed by private blocks, so a node's reference
// count is never below any of its children's: an unreferenced node has only unreferenced
// nodes below it and can always be evicted, leaves first.
//
// Every block is in one of three states:
//   plain free  - no content, on the free stack (handed out first);
//   node, idle  - in the tree with ref_count 0: counted as free, evicted on demand, least
//                 recently used leaf first (a shared prefix goes only after every branch
//                 below it);
//   held        - ref_count > 0, a node or a private block of one request.
// Not thread-safe: one host thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bricks::kv_prefix_tree {

class BlockTree {
 public:
  // The parent of a sequence's first block.
  static constexpr int32_t kRoot = -1;

  // How many of a request's leading group-0 blocks are tree nodes.
  struct Cursor {
    int32_t tree_blocks = 0;
  };

  BlockTree() = default;
  BlockTree(int32_t num_blocks, int32_t block_size);
  // An empty tree of `num_blocks` free blocks with this one's block size.
  BlockTree resized(int32_t num_blocks) const { return BlockTree(num_blocks, block_size_); }

  int32_t num_blocks() const { return num_blocks_; }
  // Plain free blocks plus idle nodes: what allocate can hand out.
  int32_t num_free() const { return static_cast<int32_t>(free_.size()) + num_idle_; }
  int32_t num_idle() const { return num_idle_; }
  int32_t num_nodes() const { return num_nodes_; }
  int32_t ref_count(int32_t block) const { return ref_[static_cast<size_t>(block)]; }
  bool is_node(int32_t block) const { return node_[static_cast<size_t>(block)] != 0; }

  // The child of `parent` (kRoot or a node) holding tokens[0, block_size), or -1. Token ids
  // are compared, not only hashes.
  int32_t find_child(int32_t parent, const int32_t* tokens) const;

  // The nodes on the path from the root that hold the leading full blocks of `tokens`, at
  // most max_blocks: appended to `hits` when not null; how many.
  int32_t find_prefix(const int32_t* tokens, int32_t max_blocks, std::vector<int32_t>* hits) const;

  // The cursor of a request whose first blocks are the nodes `hits`.
  static Cursor cursor_after(const std::vector<int32_t>& hits) {
    return Cursor{static_cast<int32_t>(hits.size())};
  }

  // Makes blocks [cursor.tree_blocks, full) of `blocks` (group 0, holding `tokens`) nodes,
  // each the child of the block before it, and moves the cursor past them. Stops at the
  // first block whose content another node already holds; a later call tries again, so the
  // request's blocks join the tree once that node is evicted.
  void enter_full(Cursor& cursor, const int32_t* tokens, const std::vector<int32_t>& blocks,
                  int32_t full);

  // Appends `n` blocks with ref_count 1 to `out`: plain free blocks first (a fresh pool hands
  // out ascending ids), then idle leaves evicted in LRU order. The caller has checked
  // num_free() >= n.
  void allocate(int32_t n, std::vector<int32_t>& out);

  // One more reference to `block`; an idle node stops being evictable.
  void take(int32_t block);

  // One reference less. At zero a node turns idle (still findable), a private block goes
  // back to the free stack.
  void release(int32_t block);

  // Makes the private block `block` (ref_count 1, holding `tokens`) the child of `parent`.
  // False, changing nothing, when `parent` already has a child with these tokens (the block
  // stays private) or the hash slot is taken.
  bool insert(int32_t parent, int32_t block, const int32_t* tokens);

 private:
  uint64_t key_of(int32_t node) const;
  void evict_one(std::vector<int32_t>& out);
  void make_evictable(int32_t node);

  int32_t num_blocks_ = 0;
  int32_t block_size_ = 0;
  int32_t num_idle_ = 0;
  int32_t num_nodes_ = 0;
  uint64_t tick_ = 0;
  std::vector<int32_t> free_;  // plain free blocks; back() is handed out next
  std::vector<int32_t> ref_;
  std::vector<uint8_t> node_;
  std::vector<int32_t> parent_;
  std::vector<int32_t> num_children_;
  std::vector<uint64_t> key_;       // chain hash of the node's tokens and its ancestors'
  std::vector<uint64_t> last_use_;  // tick of the last take or release
  std::vector<int32_t> tokens_;     // [num_blocks][block_size], valid for nodes
  std::unordered_map<uint64_t, int32_t> by_key_;
  std::set<std::pair<uint64_t, int32_t>> evictable_;  // idle leaves by (last_use, block)
};

}  // namespace bricks::kv_prefix_tree
