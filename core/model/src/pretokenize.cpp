#include "pretokenize.h"

#include <cstdint>

#include "unicode.h"

namespace bricks::model {
namespace {

struct Chars {
  std::vector<uint32_t> cp;
  std::vector<size_t> off;  // byte offset of each char; off[n] = text size
  size_t n() const { return cp.size(); }
  uint32_t at(size_t i) const { return i < cp.size() ? cp[i] : 0; }  // 0: past the end
};

Chars split_chars(std::string_view s) {
  Chars c;
  for (size_t i = 0; i < s.size();) {
    size_t len;
    c.cp.push_back(unicode::decode(s, i, len));
    c.off.push_back(i);
    i += len;
  }
  c.off.push_back(s.size());
  return c;
}

bool letter(uint32_t cp) { return unicode::is_letter(cp); }
bool number(uint32_t cp) { return unicode::is_number(cp); }
bool space(uint32_t cp) { return unicode::is_space(cp); }
bool newline(uint32_t cp) { return cp == '\r' || cp == '\n'; }
bool other(uint32_t cp) { return !space(cp) && !letter(cp) && !number(cp); }
uint32_t lower(uint32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp; }

// Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
size_t contraction(const Chars& c, size_t i, bool ignore_case) {
  if (c.at(i) != '\'' || i + 1 >= c.n()) return 0;
  auto fold = [&](uint32_t x) { return ignore_case ? lower(x) : x; };
  const uint32_t a = fold(c.at(i + 1));
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= c.n()) return 0;
  const uint32_t b = fold(c.at(i + 2));
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

size_t run(const Chars& c, size_t i, bool (*pred)(uint32_t), size_t max = SIZE_MAX) {
  size_t j = i;
  while (j < c.n() && j - i < max && pred(c.cp[j])) ++j;
  return j - i;
}

// Whitespace alternatives shared by all styles: \s+(?!\S) then \s+.
size_t trailing_space(const Chars& c, size_t i) {
  const size_t len = run(c, i, space);
  if (len == 0) return 0;
  if (i + len == c.n() || len == 1) return len;  // at the end, or \s+ takes the single space
  return len - 1;  // leave the last space to prefix the next word
}

size_t match_gpt2(const Chars& c, size_t i) {
  if (size_t n = contraction(c, i, false)) return n;
  const size_t sp = c.at(i) == ' ' ? 1 : 0;
  if (size_t n = run(c, i + sp, letter)) return sp + n;
  if (size_t n = run(c, i + sp, number)) return sp + n;
  if (size_t n = run(c, i + sp, other)) return sp + n;
  return trailing_space(c, i);
}

size_t match_llama3(const Chars& c, size_t i, size_t max_digits) {
  if (size_t n = contraction(c, i, true)) return n;
  const uint32_t x = c.at(i);
  if (letter(x)) return run(c, i, letter);
  if (!newline(x) && !number(x)) {
    if (size_t n = run(c, i + 1, letter)) return 1 + n;
  }
  if (number(x)) return run(c, i, number, max_digits);
  {
    const size_t sp = x == ' ' ? 1 : 0;
    if (size_t n = run(c, i + sp, other)) return sp + n + run(c, i + sp + n, newline);
  }
  if (space(x)) {
    // \s*[\r\n]+ : the whitespace run up to and including its last newline.
    const size_t len = run(c, i, space);
    for (size_t k = len; k > 0; --k) {
      if (newline(c.cp[i + k - 1])) return k;
    }
  }
  return trailing_space(c, i);
}

}  // namespace

std::vector<std::string_view> pretokenize(std::string_view text, PreTokenizer style) {
  const Chars c = split_chars(text);
  std::vector<std::string_view> out;
  for (size_t i = 0; i < c.n();) {
    size_t n = 0;
    switch (style) {
      case PreTokenizer::Gpt2: n = match_gpt2(c, i); break;
      case PreTokenizer::Llama3: n = match_llama3(c, i, 3); break;
      case PreTokenizer::Qwen2: n = match_llama3(c, i, 1); break;
    }
    if (n == 0) n = 1;  // unreachable with the alternatives above; never loop forever
    out.push_back(text.substr(c.off[i], c.off[i + n] - c.off[i]));
    i += n;
  }
  return out;
}

}  // namespace bricks::model
