#include "sim/linear_samples.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <utility>

#include "sim/sim_error.h"

namespace bricks::sim {

namespace {

constexpr double kMs = 1e-3;

const char* const kRequired[] = {"num_tokens",       "tp",
                                 "attn_pre_proj_ms", "attn_post_proj_ms",
                                 "mlp_up_proj_ms",   "mlp_down_proj_ms",
                                 "n_head",           "n_kv_head",
                                 "n_embd",           "n_expanded_embd"};
// Kernels of a layer besides its GEMMs and attention, with how often a layer runs each.
const std::pair<const char*, int> kOther[] = {
    {"attn_rope_ms", 1}, {"mlp_act_ms", 1}, {"input_layernorm_ms", 2}, {"add_ms", 2}};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out(1);
  for (char ch : line) {
    if (ch == ',') {
      out.emplace_back();
    } else if (ch != '\r' && ch != ' ') {
      out.back() += ch;
    }
  }
  return out;
}

struct Sums {
  LinearSample first;
  double linear = 0, other = 0;
  int rows = 0;
};

}  // namespace

std::vector<LinearSample> load_linear_samples(const std::filesystem::path& csv) {
  const std::string file = csv.string();
  std::ifstream in(csv);
  if (!in) throw SimError(file + ": cannot read the file; check the path");
  auto fail = [&file](int line, const std::string& what, const std::string& fix) {
    throw SimError(file + ":" + std::to_string(line) + ": " + what + "; " + fix);
  };
  std::string text;
  if (!std::getline(in, text)) fail(1, "the file is empty", "give a CSV with a header line");
  const std::vector<std::string> header = split(text);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  for (const char* name : kRequired) {
    if (!col.contains(name)) {
      fail(1, "no column " + std::string(name),
           "give Vidur's mlp.csv columns (num_tokens, tp, the four projections' *_ms and the "
           "shape n_head, n_kv_head, n_embd, n_expanded_embd)");
    }
  }
  const bool has_other = std::all_of(std::begin(kOther), std::end(kOther),
                                     [&](const auto& o) { return col.contains(o.first); });

  std::map<std::pair<int32_t, int64_t>, Sums> points;
  int line = 1;
  while (std::getline(in, text)) {
    ++line;
    if (text.empty() || text == "\r") continue;
    const std::vector<std::string> cells = split(text);
    if (cells.size() != header.size()) {
      fail(line,
           std::to_string(cells.size()) + " cells, the header has " + std::to_string(header.size()),
           "give one value per column");
    }
    auto number = [&](const std::string& name) {
      const std::string& cell = cells[col.at(name)];
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(cell.c_str(), &end);
      if (cell.empty() || *end != '\0' || errno != 0 || !std::isfinite(v)) {
        fail(line, "column " + name + " holds '" + cell + "', not a number", "give a number");
      }
      if (v < 0 || (v == 0 && name.find("_ms") == std::string::npos)) {
        fail(line, "column " + name + " is " + cell + ", out of range",
             name.find("_ms") == std::string::npos ? "give a count of 1 or more"
                                                   : "give a time of 0 ms or more");
      }
      return v;
    };
    LinearSample s;
    s.model = csv.stem().string();
    s.tokens = static_cast<int64_t>(number("num_tokens"));
    s.tp = static_cast<int32_t>(number("tp"));
    s.linear_s = (number("attn_pre_proj_ms") + number("attn_post_proj_ms") +
                  number("mlp_up_proj_ms") + number("mlp_down_proj_ms")) *
                 kMs;
    if (s.linear_s <= 0) fail(line, "the four projections sum to 0 ms", "give measured times");
    if (has_other) {
      for (const auto& [name, count] : kOther) s.other_s += count * number(name) * kMs;
    }
    model::LlamaConfig& c = s.shape.config;
    c.arch = "llama";
    c.n_layers = 1;
    c.n_heads = static_cast<int32_t>(number("n_head"));
    c.n_kv_heads = static_cast<int32_t>(number("n_kv_head"));
    c.hidden = static_cast<int32_t>(number("n_embd"));
    c.ffn = static_cast<int32_t>(number("n_expanded_embd"));
    if (c.hidden % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0) {
      fail(line,
           "n_embd " + std::to_string(c.hidden) + ", n_head " + std::to_string(c.n_heads) +
               " and n_kv_head " + std::to_string(c.n_kv_heads) + " are no model's shape",
           "n_head must divide n_embd, and n_kv_head n_head");
    }
    if (c.n_heads % s.tp != 0 || c.ffn % s.tp != 0) {
      fail(line, "tp " + std::to_string(s.tp) + " does not divide n_head and n_expanded_embd",
           "give the tensor-parallel degree the row was measured at");
    }
    c.head_dim = c.hidden / c.n_heads;
    c.vocab_size = 1;
    c.context_length = 1;
    c.name = s.model;
    s.shape.name = s.model;
    Sums& sum = points[{s.tp, s.tokens}];
    if (sum.rows == 0) sum.first = s;
    sum.linear += s.linear_s;
    sum.other += s.other_s;
    ++sum.rows;
  }
  if (points.empty()) fail(line, "no rows", "give one row per measured batch");
  std::vector<LinearSample> out;
  for (auto& [key, sum] : points) {
    LinearSample s = std::move(sum.first);
    s.linear_s = sum.linear / sum.rows;
    s.other_s = sum.other / sum.rows;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace bricks::sim
