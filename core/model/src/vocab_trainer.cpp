// A small BPE trainer: the most frequent adjacent pair (ties: the smaller pair) merges
// first, words weighted by count, with "▁" marking word starts as SentencePiece does.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "bricks/model/model_error.h"
#include "make_model_internal.h"
#include "unicode.h"

namespace bricks::model {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

std::vector<std::string> chars_of(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = unicode::char_len(s, i);
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

TrainedVocab train_vocab(std::string_view text, int32_t size) {
  TrainedVocab v;
  std::set<std::string> have;
  auto add = [&](std::string t, float score, TokenType type) {
    if (static_cast<int32_t>(v.tokens.size()) >= size || !have.insert(t).second) return;
    v.tokens.push_back(std::move(t));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0.f, TokenType::Unknown);
  add("<s>", 0.f, TokenType::Control);
  add("</s>", 0.f, TokenType::Control);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    add(buf, 0.f, TokenType::Byte);
  }

  // Words with their counts; each word starts with the space marker.
  std::map<std::string, int> counts;
  for (size_t i = 0; i < text.size();) {
    while (i < text.size() && unicode::is_space(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !unicode::is_space(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) ++counts[std::string(kSpace) + std::string(text.substr(i, j - i))];
    i = j;
  }
  std::vector<std::pair<std::vector<std::string>, int>> words;
  std::set<std::string> alphabet;
  for (const auto& [w, n] : counts) {
    words.emplace_back(chars_of(w), n);
    for (const std::string& c : words.back().first) alphabet.insert(c);
  }
  for (char c = 0x21; c < 0x7F; ++c) alphabet.insert(std::string(1, c));
  alphabet.insert(std::string(kSpace));

  const int32_t budget = size - static_cast<int32_t>(v.tokens.size()) -
                         static_cast<int32_t>(alphabet.size());
  if (budget < 0) {
    throw ModelError("vocabulary size " + std::to_string(size) + " is too small for " +
                     std::to_string(v.tokens.size() + alphabet.size()) + " base tokens");
  }
  std::vector<std::string> learnt;
  while (static_cast<int32_t>(learnt.size()) < budget) {
    std::map<std::pair<std::string, std::string>, int> pairs;
    for (const auto& [syms, n] : words) {
      for (size_t i = 0; i + 1 < syms.size(); ++i) pairs[{syms[i], syms[i + 1]}] += n;
    }
    if (pairs.empty()) break;
    auto best = pairs.begin();
    for (auto it = pairs.begin(); it != pairs.end(); ++it) {
      if (it->second > best->second) best = it;
    }
    const auto [a, b] = best->first;
    const std::string merged = a + b;
    for (auto& [syms, n] : words) {
      std::vector<std::string> next;
      for (size_t i = 0; i < syms.size(); ++i) {
        if (i + 1 < syms.size() && syms[i] == a && syms[i + 1] == b) {
          next.push_back(merged);
          ++i;
        } else {
          next.push_back(syms[i]);
        }
      }
      syms = std::move(next);
    }
    if (have.count(merged) == 0 &&
        std::find(learnt.begin(), learnt.end(), merged) == learnt.end()) {
      learnt.push_back(merged);
    }
  }

  float score = 0.f;
  for (const std::string& p : learnt) add(p, score -= 1.f, TokenType::Normal);
  const float char_score = score - 1e4f;  // characters never compete with merges
  for (const std::string& c : alphabet) add(c, char_score, TokenType::Normal);
  // Fill: learnt pieces extended by a letter, then by two letters, ... until full.
  std::vector<std::string> base = learnt;
  while (static_cast<int32_t>(v.tokens.size()) < size && !base.empty()) {
    std::vector<std::string> next;
    for (const std::string& p : base) {
      for (char c = 'a'; c <= 'z' && static_cast<int32_t>(v.tokens.size()) < size; ++c) {
        std::string t = p + c;
        if (have.count(t) == 0) {
          add(t, score -= 1.f, TokenType::Normal);
          next.push_back(std::move(t));
        }
      }
      if (static_cast<int32_t>(v.tokens.size()) >= size) break;
    }
    base = std::move(next);
  }
  if (static_cast<int32_t>(v.tokens.size()) != size) {
    throw ModelError("could not fill a vocabulary of " + std::to_string(size) + " tokens");
  }
  return v;
}

}  // namespace bricks::model
