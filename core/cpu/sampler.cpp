#include "cpu/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bricks/error.hpp"

namespace bricks::cpu {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void check_params(const SamplingParams& p) {
  auto bad = [](const std::string& what) { throw Error::invalid("sampling parameter " + what); };
  if (!(p.temperature >= 0) || std::isinf(p.temperature)) {
    bad("temperature = " + std::to_string(p.temperature) + " must be finite and >= 0");
  }
  if (!(p.top_p > 0 && p.top_p <= 1)) {
    bad("top_p = " + std::to_string(p.top_p) + " must be in (0, 1]");
  }
  if (!(p.min_p >= 0 && p.min_p < 1)) {
    bad("min_p = " + std::to_string(p.min_p) + " must be in [0, 1)");
  }
  if (!(p.repetition_penalty > 0) || std::isinf(p.repetition_penalty)) {
    bad("repetition_penalty = " + std::to_string(p.repetition_penalty) + " must be finite and > 0");
  }
  if (p.top_k < 0) bad("top_k = " + std::to_string(p.top_k) + " must be >= 0");
}

struct Candidate {
  float v;  // logit, then probability
  int32_t id;
};

bool before(const Candidate& a, const Candidate& b) {
  return a.v > b.v || (a.v == b.v && a.id < b.id);
}

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& s : s_) s = splitmix64(x);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

float Rng::uniform() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }

int32_t sample(std::span<float> logits, const SamplingParams& p, std::span<const int32_t> history,
               Rng& rng) {
  check_params(p);
  const int64_t n = static_cast<int64_t>(logits.size());
  if (n == 0) throw Error::invalid("sample: logits are empty");
  for (float& v : logits) {
    if (std::isnan(v)) v = -INFINITY;
  }

  if (p.repetition_penalty != 1.0f && !history.empty()) {
    std::vector<bool> seen(static_cast<size_t>(n), false);
    for (int32_t id : history) {
      if (id < 0 || id >= n || seen[id]) continue;
      seen[id] = true;
      float& v = logits[id];
      v = v > 0 ? v / p.repetition_penalty : v * p.repetition_penalty;
    }
  }

  int32_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (logits[i] > logits[best]) best = static_cast<int32_t>(i);
  }
  if (!std::isfinite(logits[best])) {
    throw Error::invalid("sample: no finite logit among " + std::to_string(n) + " values");
  }
  if (p.temperature == 0 || p.top_k == 1) return best;

  std::vector<Candidate> c;
  c.reserve(static_cast<size_t>(n));
  const float inv_t = 1.0f / p.temperature;
  for (int64_t i = 0; i < n; ++i) {
    if (logits[i] == -INFINITY) continue;
    logits[i] *= inv_t;
    c.push_back({logits[i], static_cast<int32_t>(i)});
  }

  // Top-k sorts only its k, best first.
  bool sorted = false;
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < c.size()) {
    const size_t keep = static_cast<size_t>(p.top_k);
    std::partial_sort(c.begin(), c.begin() + keep, c.end(), before);
    c.resize(keep);
    sorted = true;
  }

  float mx = -INFINITY;
  for (const Candidate& x : c) mx = std::max(mx, x.v);
  double sum = 0;
  for (Candidate& x : c) {
    x.v = std::exp(x.v - mx);
    sum += x.v;
  }
  for (Candidate& x : c) x.v = static_cast<float>(x.v / sum);

  if (p.top_p < 1) {
    // The nucleus is usually a few dozen tokens: sort a growing prefix until it holds
    // top_p of the mass instead of sorting the whole vocabulary.
    size_t sorted_len = sorted ? c.size() : 0;
    size_t cut = 0;
    double cum = 0;
    while (cut < c.size()) {
      if (cut == sorted_len) {
        sorted_len = std::min(c.size(), std::max<size_t>(64, 4 * sorted_len));
        std::partial_sort(c.begin() + cut, c.begin() + sorted_len, c.end(), before);
      }
      cum += c[cut].v;
      ++cut;
      if (cum >= p.top_p) break;
    }
    c.resize(cut);
  }
  if (p.min_p > 0) {
    float top = 0;
    for (const Candidate& x : c) top = std::max(top, x.v);
    const float floor = p.min_p * top;
    std::erase_if(c, [floor](const Candidate& x) { return x.v < floor; });
  }

  double total = 0;
  for (const Candidate& x : c) total += x.v;
  const double u = static_cast<double>(rng.uniform()) * total;
  double cum = 0;
  for (const Candidate& x : c) {
    cum += x.v;
    if (u < cum) return x.id;
  }
  return c.back().id;
}

}  // namespace bricks::cpu
