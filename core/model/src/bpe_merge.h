// The merge loop shared by both BPE tokenizers: start from the characters of a word and
// repeatedly merge the adjacent pair with the highest priority (ties: leftmost first) until
// no adjacent pair has one.
#pragma once

#include <optional>
#include <queue>
#include <string_view>
#include <vector>

#include "unicode.h"

namespace bricks::model {

// `priority(left, right)` returns the pair's priority, or nullopt when it must not merge.
template <class Priority>
std::vector<std::string_view> bpe_merge(std::string_view word, Priority&& priority) {
  struct Sym {
    size_t start, len;
    int prev, next;
  };
  std::vector<Sym> syms;
  for (size_t i = 0; i < word.size();) {
    const size_t len = unicode::char_len(word, i);
    const int idx = static_cast<int>(syms.size());
    syms.push_back({i, len, idx - 1, idx + 1});
    i += len;
  }
  if (syms.empty()) return {};
  syms.back().next = -1;

  // A candidate merge; `len` (the pair's byte length when queued) detects stale entries:
  // any later change to either symbol makes their combined length larger.
  struct Bigram {
    double pri;
    int left;
    size_t len;
    bool operator<(const Bigram& o) const { return pri < o.pri || (pri == o.pri && left > o.left); }
  };
  std::priority_queue<Bigram> queue;
  auto view = [&](int i) { return word.substr(syms[i].start, syms[i].len); };
  auto consider = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    if (const std::optional<double> p = priority(view(l), view(r))) {
      queue.push({*p, l, syms[l].len + syms[r].len});
    }
  };
  for (int i = 0; i + 1 < static_cast<int>(syms.size()); ++i) consider(i, i + 1);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Sym& l = syms[b.left];
    if (l.len == 0 || l.next < 0 || l.len + syms[l.next].len != b.len) continue;
    Sym& r = syms[l.next];
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (l.next >= 0) syms[l.next].prev = b.left;
    consider(l.prev, b.left);
    consider(b.left, l.next);
  }

  std::vector<std::string_view> out;
  for (int i = 0; i >= 0; i = syms[i].next) out.push_back(view(i));
  return out;
}

}  // namespace bricks::model
