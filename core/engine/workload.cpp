#include "engine/workload.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace bricks::engine {

namespace {

// Ids above the specials and byte tokens, so synthetic prompts decode to real pieces.
class TokenDraw {
 public:
  TokenDraw(const model::Tokenizer& tok, uint64_t seed)
      : rng_(seed), lo_(std::min(259, tok.vocab_size() - 1)), hi_(tok.vocab_size() - 1) {}
  int32_t next() { return std::uniform_int_distribution<int32_t>(lo_, hi_)(rng_); }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
  int32_t lo_, hi_;
};

std::vector<int32_t> synthetic_prompt(const model::Tokenizer& tok, TokenDraw& draw, int32_t len,
                                      const std::vector<int32_t>& prefix) {
  std::vector<int32_t> p;
  p.reserve(static_cast<size_t>(len));
  p.push_back(tok.bos());
  for (int32_t t : prefix) {
    if (static_cast<int32_t>(p.size()) >= len) break;
    p.push_back(t);
  }
  while (static_cast<int32_t>(p.size()) < len) p.push_back(draw.next());
  return p;
}

}  // namespace

cpu::SamplingParams sampling_from(const bricks::manifest::Sampling& s) {
  cpu::SamplingParams p;
  p.temperature = static_cast<float>(s.temperature());
  p.top_k = s.top_k();
  p.top_p = s.top_p() > 0 ? static_cast<float>(s.top_p()) : 1.0f;
  p.min_p = static_cast<float>(s.min_p());
  p.repetition_penalty = s.repetition_penalty() > 0 ? static_cast<float>(s.repetition_penalty()) : 1.0f;
  p.seed = s.seed();
  return p;
}

std::vector<RequestSpec> read_trace(const std::filesystem::path& file,
                                    const model::Tokenizer& tokenizer, uint64_t seed) {
  std::ifstream in(file);
  if (!in) throw WorkloadError(file.string() + ": cannot open the trace file");
  TokenDraw draw(tokenizer, seed);
  std::vector<RequestSpec> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(line_no) + ": ";
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw WorkloadError(where + "not valid JSON (" + e.what() + "); each line is one object");
    }
    if (!j.is_object()) throw WorkloadError(where + "each line must be a JSON object");
    try {
      RequestSpec r;
      r.arrival_s = j.value("arrival_s", 0.0);
      r.max_new_tokens = j.value("max_tokens", j.value("output_len", 16));
      r.tenant = j.value("tenant", 0);
      r.priority = j.value("priority", 0);
      r.conversation = j.value("conversation", uint64_t{0});
      r.turn = j.value("turn", 0);
      r.prefix_group = j.value("prefix_group", uint64_t{0});
      if (j.contains("prompt")) {
        r.prompt = tokenizer.encode(j.at("prompt").get<std::string>(), true);
      } else if (j.contains("prompt_len")) {
        const int32_t len = j.at("prompt_len").get<int32_t>();
        if (len < 1) throw WorkloadError(where + "prompt_len must be >= 1");
        r.prompt = synthetic_prompt(tokenizer, draw, len, {});
      } else {
        throw WorkloadError(where + "needs \"prompt\" (text) or \"prompt_len\" (tokens)");
      }
      if (r.arrival_s < 0) throw WorkloadError(where + "arrival_s must be >= 0");
      out.push_back(std::move(r));
    } catch (const nlohmann::json::exception& e) {
      throw WorkloadError(where + "a field has the wrong type (" + e.what() + ")");
    }
  }
  return out;
}

std::vector<RequestSpec> make_workload(const bricks::manifest::Workload& w,
                                       const model::Tokenizer& tokenizer,
                                       const std::filesystem::path& base_dir) {
  std::vector<RequestSpec> out;
  if (!w.trace().empty()) {
    std::filesystem::path p = w.trace();
    if (p.is_relative()) p = base_dir / p;
    out = read_trace(p, tokenizer, w.generator().seed());
  } else {
    const bricks::manifest::Generator& g = w.generator();
    if (g.num_requests() <= 0) throw WorkloadError("workload.generator.num_requests must be > 0");
    if (g.prompt_len_min() < 1 || g.prompt_len_max() < g.prompt_len_min() ||
        g.output_len_min() < 1 || g.output_len_max() < g.output_len_min()) {
      throw WorkloadError(
          "workload.generator lengths need 1 <= prompt_len_min <= prompt_len_max and "
          "1 <= output_len_min <= output_len_max");
    }
    TokenDraw draw(tokenizer, g.seed());
    std::exponential_distribution<double> gap(g.rate() > 0 ? g.rate() : 1.0);
    std::vector<int32_t> prefix;
    double t = 0.0;
    for (int32_t i = 0; i < g.num_requests(); ++i) {
      RequestSpec r;
      if (g.rate() > 0 && i > 0) t += gap(draw.rng());
      r.arrival_s = t;
      const int32_t plen = std::uniform_int_distribution<int32_t>(
          g.prompt_len_min(), g.prompt_len_max())(draw.rng());
      r.max_new_tokens = std::uniform_int_distribution<int32_t>(g.output_len_min(),
                                                                g.output_len_max())(draw.rng());
      const int32_t group = g.prefix_group_size() > 0 ? g.prefix_group_size() : 1;
      if (g.shared_prefix_len() > 0 && i % group == 0) {
        prefix.clear();
        for (int32_t k = 0; k < g.shared_prefix_len(); ++k) prefix.push_back(draw.next());
      }
      if (g.shared_prefix_len() > 0) r.prefix_group = static_cast<uint64_t>(i / group + 1);
      r.prompt = synthetic_prompt(tokenizer, draw, plen, prefix);
      out.push_back(std::move(r));
    }
  }
  const cpu::SamplingParams sp = sampling_from(w.sampling());
  for (RequestSpec& r : out) {
    r.sampling = sp;
    r.ignore_eos = w.sampling().ignore_eos();
  }
  return out;
}

}  // namespace bricks::engine
