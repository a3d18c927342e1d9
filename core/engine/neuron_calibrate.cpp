#include "engine/neuron_calibrate.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include "engine/cpu_device.h"
#include "engine/engine.h"

namespace bricks::engine {

const std::vector<std::string>& builtin_calibration_prompts() {
  static const std::vector<std::string> kPrompts = {
      "Once upon a time there was a little girl who lived in a village near the forest.",
      "The old fisherman pulled his boat onto the sand and sat down to mend his nets.",
      "Every morning the baker opened his shop before sunrise and lit the great oven.",
      "Tom and his sister found a small dog in the park and took it home with them.",
      "The rain had stopped, and the children ran outside to jump in the puddles.",
      "She opened the letter slowly, afraid of what it might say about her brother.",
      "In the middle of the night the cat climbed onto the roof and watched the moon.",
      "The teacher asked the class to write a short story about their favourite animal.",
      "A tall tree grew beside the river, and birds built their nests in its branches.",
      "When the train finally arrived, the station was full of tired and happy people.",
      "He counted the coins twice, then put them back in the jar on the kitchen shelf.",
      "The king called his three sons and told them that one of them would rule after him.",
      "Lily liked to paint pictures of flowers, and her mother hung them on the wall.",
      "The wind blew so hard that the little boat rocked from side to side all night.",
      "After dinner the family sat by the fire and listened to grandfather's stories.",
      "The robot beeped twice, turned its head, and rolled slowly towards the door.",
      "On Saturday they went to the market to buy apples, bread, cheese and fresh milk.",
      "The mountain path was steep and narrow, so the travellers walked one behind another.",
      "Ben was sad because his kite was stuck in a tree, but his friend helped him.",
      "The garden was quiet except for the bees moving from one flower to the next.",
      "Sara learned to ride her bicycle in one afternoon and was very proud of herself.",
      "A small mouse lived under the floor of the library and read books at night.",
      "The ship sailed for many days until the sailors saw an island covered in palm trees.",
      "Grandma made a big pot of soup and invited all the neighbours to share it.",
      "The clock in the tower struck twelve, and the square filled with music and light.",
      "Max wanted to be a doctor when he grew up, so he practised on his teddy bear.",
      "Snow covered the town, and the streets were white and silent in the morning.",
      "The princess did not want to marry the prince; she wanted to explore the world.",
      "They built a sandcastle with towers and a moat, but the sea washed it away.",
      "The scientist looked through the microscope and saw something she did not expect.",
      "A frog sat on a leaf in the pond and sang a song to the evening stars.",
      "The children planted seeds in spring and watched them grow taller every week.",
  };
  return kPrompts;
}

ActivationRecorder::ActivationRecorder(const LlamaWeights& w, double active_share,
                                       int32_t max_tokens)
    : w_(w), share_(active_share), max_tokens_(max_tokens) {
  active_.resize(w.layers.size());
}

int32_t ActivationRecorder::tokens(int32_t layer) const {
  return static_cast<int32_t>(active_.at(static_cast<size_t>(layer)).size() /
                              static_cast<size_t>(w_.config.ffn));
}

double ActivationRecorder::mass90_share() const {
  return mass_count_ > 0 ? mass_sum_ / static_cast<double>(mass_count_) : 0.0;
}

void ActivationRecorder::forward(int32_t layer, const float* h, int64_t rows, float* out) {
  const LayerWeights& L = w_.layers.at(static_cast<size_t>(layer));
  if (L.w_gate == nullptr) {
    throw std::logic_error("calibration needs a dense FFN; layer " + std::to_string(layer) +
                           " has experts");
  }
  const int64_t f = w_.config.ffn;
  gate_.resize(static_cast<size_t>(rows * f));
  up_.resize(gate_.size());
  L.w_gate->forward(h, rows, gate_.data());
  L.w_up->forward(h, rows, up_.data());
  cpu::silu_mul(gate_.data(), up_.data(), rows * f, gate_.data());
  L.w_down->forward(gate_.data(), rows, out);

  std::vector<uint8_t>& act = active_[static_cast<size_t>(layer)];
  const int64_t keep = std::clamp<int64_t>(std::llround(share_ * static_cast<double>(f)), 1, f);
  mag_.resize(static_cast<size_t>(f));
  for (int64_t t = 0; t < rows; ++t) {
    const float* a = gate_.data() + t * f;
    for (int64_t i = 0; i < f; ++i) mag_[i] = std::fabs(a[i]);
    // The share of neurons that holds 90 % of this token's activation mass.
    std::vector<float> sorted(mag_);
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    const double total = std::accumulate(sorted.begin(), sorted.end(), 0.0);
    double run = 0.0;
    int64_t n90 = 0;
    while (n90 < f && run < 0.9 * total) run += sorted[static_cast<size_t>(n90++)];
    mass_sum_ += static_cast<double>(n90) / static_cast<double>(f);
    ++mass_count_;
    if (static_cast<int64_t>(act.size()) >= int64_t{max_tokens_} * f) continue;
    const float threshold = sorted[static_cast<size_t>(keep - 1)];
    int64_t taken = 0;
    for (int64_t i = 0; i < f; ++i) {
      const bool on = mag_[i] > threshold || (mag_[i] == threshold && taken < keep);
      if (on) ++taken;
      act.push_back(on ? 1 : 0);
    }
  }
}

LayerPartition cluster_neurons(const std::vector<uint8_t>& active, int32_t tokens, int32_t ffn,
                               int32_t clusters, int32_t iterations, uint64_t seed) {
  if (clusters < 1 || clusters > ffn) {
    throw PartitionError("cannot make " + std::to_string(clusters) + " clusters of " +
                         std::to_string(ffn) + " neurons; choose 1.." + std::to_string(ffn));
  }
  const int64_t N = tokens, F = ffn, C = clusters;
  // Neuron-major patterns: x[i][t].
  std::vector<float> x(static_cast<size_t>(F * N));
  for (int64_t t = 0; t < N; ++t) {
    for (int64_t i = 0; i < F; ++i) x[i * N + t] = active[t * F + i];
  }
  std::vector<int64_t> capacity(static_cast<size_t>(C), F / C);
  for (int64_t c = 0; c < F % C; ++c) ++capacity[c];

  std::vector<float> centroid(static_cast<size_t>(C * N));
  std::vector<int32_t> pick(static_cast<size_t>(F));
  std::iota(pick.begin(), pick.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(pick.begin(), pick.end(), rng);
  for (int64_t c = 0; c < C; ++c) {
    std::copy_n(x.begin() + pick[c] * N, N, centroid.begin() + c * N);
  }

  std::vector<int32_t> assign(static_cast<size_t>(F), -1), prev;
  std::vector<std::pair<float, int64_t>> pairs(static_cast<size_t>(F * C));
  std::vector<float> norm(static_cast<size_t>(C));
  for (int32_t it = 0; it < std::max(iterations, 1); ++it) {
    for (int64_t c = 0; c < C; ++c) {
      const float* m = centroid.data() + c * N;
      norm[c] = std::inner_product(m, m + N, m, 0.0f);
    }
    // Squared distance up to the neuron's own |x|^2, which does not change its ranking.
    for (int64_t i = 0; i < F; ++i) {
      const float* xi = x.data() + i * N;
      for (int64_t c = 0; c < C; ++c) {
        const float dot = std::inner_product(xi, xi + N, centroid.data() + c * N, 0.0f);
        pairs[i * C + c] = {norm[c] - 2.0f * dot, i * C + c};
      }
    }
    // Greedy balanced assignment: cheapest (neuron, cluster) pairs first, each cluster up
    // to its capacity.
    std::sort(pairs.begin(), pairs.end());
    prev = assign;
    std::fill(assign.begin(), assign.end(), -1);
    std::vector<int64_t> room = capacity;
    int64_t placed = 0;
    for (const auto& [cost, key] : pairs) {
      const int64_t i = key / C, c = key % C;
      if (assign[i] >= 0 || room[c] == 0) continue;
      assign[i] = static_cast<int32_t>(c);
      --room[c];
      if (++placed == F) break;
    }
    if (assign == prev) break;
    std::fill(centroid.begin(), centroid.end(), 0.0f);
    for (int64_t i = 0; i < F; ++i) {
      float* m = centroid.data() + assign[i] * N;
      const float* xi = x.data() + i * N;
      for (int64_t t = 0; t < N; ++t) m[t] += xi[t];
    }
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t t = 0; t < N; ++t) centroid[c * N + t] /= static_cast<float>(capacity[c]);
    }
  }

  LayerPartition p;
  p.offsets.assign(static_cast<size_t>(C + 1), 0);
  for (int64_t i = 0; i < F; ++i) ++p.offsets[assign[i] + 1];
  for (int64_t c = 0; c < C; ++c) p.offsets[c + 1] += p.offsets[c];
  p.order.resize(static_cast<size_t>(F));
  std::vector<int32_t> fill(p.offsets.begin(), p.offsets.end() - 1);
  for (int64_t i = 0; i < F; ++i) p.order[fill[assign[i]]++] = static_cast<int32_t>(i);
  return p;
}

namespace {

// Mean share of active neurons inside the clusters that hold any active neuron.
double purity(const std::vector<uint8_t>& active, int32_t tokens, int32_t ffn,
              const LayerPartition& p) {
  double sum = 0.0;
  int64_t on = 0;
  const int32_t clusters = static_cast<int32_t>(p.offsets.size()) - 1;
  for (int64_t t = 0; t < tokens; ++t) {
    const uint8_t* a = active.data() + t * ffn;
    for (int32_t c = 0; c < clusters; ++c) {
      int32_t hits = 0;
      for (int32_t j = p.offsets[c]; j < p.offsets[c + 1]; ++j) hits += a[p.order[j]];
      if (hits == 0) continue;
      sum += static_cast<double>(hits) / (p.offsets[c + 1] - p.offsets[c]);
      ++on;
    }
  }
  return on > 0 ? sum / static_cast<double>(on) : 0.0;
}

}  // namespace

CalibrationResult calibrate_partition(Engine& dense, const LlamaWeights& w,
                                      const model::Tokenizer* tokenizer,
                                      const CalibrationOptions& o,
                                      const std::function<void(const std::string&)>& progress) {
  const model::LlamaConfig& c = w.config;
  if (c.n_experts > 0) {
    throw PartitionError("neuron partitions are for dense FFNs; " + c.name +
                         " is a mixture-of-experts model (route its experts with topk)");
  }
  if (o.clusters < 1 || o.clusters > c.ffn) {
    throw PartitionError("clusters " + std::to_string(o.clusters) + " must be in [1, ffn=" +
                         std::to_string(c.ffn) + "]");
  }
  if (!(o.active_share > 0.0 && o.active_share < 1.0) || o.max_tokens < 1) {
    throw PartitionError("active share must be in (0, 1) and max tokens >= 1");
  }
  auto* device = dynamic_cast<CpuDevice*>(&dense.device());
  if (device == nullptr || tokenizer == nullptr) {
    throw PartitionError("calibration runs the model on the cpu device");
  }
  auto recorder = std::make_shared<ActivationRecorder>(w, o.active_share, o.max_tokens);
  device->set_layer_ffns(std::vector<std::shared_ptr<LayerFfn>>(
      static_cast<size_t>(c.n_layers), recorder));

  const std::vector<std::string>& prompts =
      o.prompts.empty() ? builtin_calibration_prompts() : o.prompts;
  Engine& eng = dense;
  for (const std::string& text : prompts) {
    RequestSpec spec;
    spec.prompt = tokenizer->encode(text, true);
    if (static_cast<int64_t>(spec.prompt.size()) >= c.context_length) {
      spec.prompt.resize(static_cast<size_t>(c.context_length - 1));
    }
    if (spec.prompt.empty()) continue;
    spec.max_new_tokens = 1;
    spec.ignore_eos = true;
    eng.submit(std::move(spec));
  }
  if (progress) progress("calibration: running " + std::to_string(prompts.size()) + " prompts");
  eng.run_to_completion();
  device->set_layer_ffns({});

  CalibrationResult r;
  r.tokens = recorder->tokens(0);
  if (r.tokens == 0) throw PartitionError("the calibration prompts gave no tokens");
  r.mass90_share = recorder->mass90_share();
  NeuronPartition& p = r.partition;
  p.ffn = c.ffn;
  p.clusters = o.clusters;
  p.calibration_tokens = r.tokens;
  p.calibration_share = static_cast<float>(o.active_share);
  p.layers.resize(static_cast<size_t>(c.n_layers));
  double pur = 0.0;
  for (int32_t l = 0; l < c.n_layers; ++l) {
    if (progress) {
      progress("calibration: clustering layer " + std::to_string(l + 1) + "/" +
               std::to_string(c.n_layers) + " (" + std::to_string(r.tokens) + " tokens)");
    }
    const auto& act = recorder->active()[static_cast<size_t>(l)];
    const int32_t n = recorder->tokens(l);
    p.layers[static_cast<size_t>(l)] =
        cluster_neurons(act, n, c.ffn, o.clusters, o.iterations, o.seed + static_cast<uint64_t>(l));
    pur += purity(act, n, c.ffn, p.layers[static_cast<size_t>(l)]);
  }
  r.cluster_purity = pur / c.n_layers;
  return r;
}

}  // namespace bricks::engine
