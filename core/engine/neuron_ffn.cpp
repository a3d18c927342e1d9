#include "engine/neuron_ffn.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace bricks::engine {

struct NeuronFfn::Layer {
  std::vector<std::byte> gate, up, down;    // cluster-ordered copies
  std::vector<float> predictor;             // [clusters][hidden] mean gate rows
  std::unique_ptr<cpu::Linear> predict;
  std::vector<std::unique_ptr<cpu::Linear>> linears;  // gate, up, down per cluster
  std::vector<FfnGroup> groups;
};

namespace {

size_t element_bytes(cpu::WeightType t) {
  const model::BlockShape b = model::dtype_block(t);
  return b.values == 1 ? b.bytes : 0;  // blocks: no single-element copies
}

// Rows `order` of `w`, in that order, in w's stored type.
std::vector<std::byte> gather_rows(const cpu::WeightView& w, const std::vector<int32_t>& order) {
  const size_t rb = cpu::row_bytes(w.type, w.cols);
  std::vector<std::byte> out(rb * order.size());
  const auto* src = static_cast<const std::byte*>(w.data);
  for (size_t j = 0; j < order.size(); ++j) {
    std::memcpy(out.data() + j * rb, src + rb * static_cast<size_t>(order[j]), rb);
  }
  return out;
}

}  // namespace

NeuronFfn::NeuronFfn(const model::Model& m, const LlamaWeights& w, const NeuronPartition& p,
                     const std::vector<int32_t>& layers, const host::BrickInstance& router)
    : w_(w), clusters_(p.clusters), router_(router) {
  const model::LlamaConfig& c = w.config;
  if (c.n_experts > 0) {
    throw std::invalid_argument("neuron partitions need a dense model; " + c.name +
                                " has experts");
  }
  if (static_cast<int32_t>(p.layers.size()) != c.n_layers || p.ffn != c.ffn) {
    throw std::invalid_argument("the neuron partition does not fit the model's layers");
  }
  layers_.resize(static_cast<size_t>(c.n_layers));
  std::vector<int32_t> want = layers;
  if (want.empty()) {
    for (int32_t l = 0; l < c.n_layers; ++l) want.push_back(l);
  }
  const cpu::Compute compute = w.layers.front().wq->compute();
  const int64_t d = c.hidden;
  for (int32_t l : want) {
    if (l < 0 || l >= c.n_layers) {
      throw std::invalid_argument("layer " + std::to_string(l) + " is not in [0, " +
                                  std::to_string(c.n_layers) + ")");
    }
    if (layers_[static_cast<size_t>(l)] != nullptr) continue;
    covered_.push_back(l);
    const LayerPartition& P = p.layers[static_cast<size_t>(l)];
    const std::string pre = "blk." + std::to_string(l) + ".";
    const cpu::WeightView gate = weight_view(m.tensor(pre + "ffn_gate.weight"));
    const cpu::WeightView up = weight_view(m.tensor(pre + "ffn_up.weight"));
    const cpu::WeightView down = weight_view(m.tensor(pre + "ffn_down.weight"));
    auto L = std::make_unique<Layer>();
    L->gate = gather_rows(gate, P.order);
    L->up = gather_rows(up, P.order);

    // down is [hidden][ffn]: each cluster gets its columns as one [hidden][n] matrix. Q8_0
    // blocks cannot be split by column, so those clusters are kept in f32.
    const size_t eb = element_bytes(down.type);
    const cpu::WeightType down_type = eb == 0 ? cpu::WeightType::F32 : down.type;
    const size_t out_eb = eb == 0 ? 4 : eb;
    L->down.resize(out_eb * static_cast<size_t>(d * c.ffn));
    std::vector<float> row(static_cast<size_t>(c.ffn));
    const auto* src = static_cast<const std::byte*>(down.data);
    const size_t src_rb = cpu::row_bytes(down.type, down.cols);
    for (int32_t k = 0; k < clusters_; ++k) {
      const int32_t lo = P.offsets[k], n = P.offsets[k + 1] - lo;
      std::byte* dst = L->down.data() + out_eb * static_cast<size_t>(d) * lo;
      for (int64_t r = 0; r < d; ++r) {
        if (eb == 0) cpu::dequantize_row(down, r, row.data());
        for (int32_t j = 0; j < n; ++j) {
          const int32_t neuron = P.order[static_cast<size_t>(lo + j)];
          std::byte* to = dst + out_eb * static_cast<size_t>(r * n + j);
          if (eb == 0) {
            std::memcpy(to, &row[static_cast<size_t>(neuron)], 4);
          } else {
            std::memcpy(to, src + src_rb * r + eb * static_cast<size_t>(neuron), eb);
          }
        }
      }
    }

    // The predictor: each cluster's mean gate row.
    L->predictor.assign(static_cast<size_t>(clusters_ * d), 0.0f);
    std::vector<float> grow(static_cast<size_t>(d));
    for (int32_t k = 0; k < clusters_; ++k) {
      float* dst = L->predictor.data() + k * d;
      const int32_t lo = P.offsets[k], hi = P.offsets[k + 1];
      for (int32_t j = lo; j < hi; ++j) {
        cpu::dequantize_row(gate, P.order[static_cast<size_t>(j)], grow.data());
        for (int64_t i = 0; i < d; ++i) dst[i] += grow[static_cast<size_t>(i)];
      }
      for (int64_t i = 0; i < d; ++i) dst[i] /= static_cast<float>(hi - lo);
    }
    L->predict = std::make_unique<cpu::Linear>(
        cpu::WeightView{cpu::WeightType::F32, clusters_, d, L->predictor.data()}, compute);

    const size_t gate_rb = cpu::row_bytes(gate.type, d), up_rb = cpu::row_bytes(up.type, d);
    for (int32_t k = 0; k < clusters_; ++k) {
      const int32_t lo = P.offsets[k], n = P.offsets[k + 1] - lo;
      auto g = std::make_unique<cpu::Linear>(
          cpu::WeightView{gate.type, n, d, L->gate.data() + gate_rb * lo}, compute);
      auto u = std::make_unique<cpu::Linear>(
          cpu::WeightView{up.type, n, d, L->up.data() + up_rb * lo}, compute);
      auto dn = std::make_unique<cpu::Linear>(
          cpu::WeightView{down_type, d, n, L->down.data() + out_eb * static_cast<size_t>(d) * lo},
          compute);
      L->groups.push_back({g.get(), u.get(), dn.get()});
      L->linears.push_back(std::move(g));
      L->linears.push_back(std::move(u));
      L->linears.push_back(std::move(dn));
    }
    layers_[static_cast<size_t>(l)] = std::move(L);
  }
}

NeuronFfn::~NeuronFfn() = default;

double NeuronFfn::active_share() const {
  return slots_ > 0 ? static_cast<double>(runs_) / static_cast<double>(slots_) : 0.0;
}

size_t NeuronFfn::weight_bytes() const {
  size_t total = 0;
  for (const auto& L : layers_) {
    if (L != nullptr) total += L->gate.size() + L->up.size() + L->down.size();
  }
  return total;
}

void NeuronFfn::forward(int32_t layer, const float* h, int64_t rows, float* out) {
  if (rows == 0) return;
  const Layer* L = layer >= 0 && layer < static_cast<int32_t>(layers_.size())
                       ? layers_[static_cast<size_t>(layer)].get()
                       : nullptr;
  if (L == nullptr) {
    throw std::logic_error("NeuronFfn: layer " + std::to_string(layer) + " is not partitioned");
  }
  const int64_t d = w_.config.hidden;
  const int32_t C = clusters_;
  scores_.resize(static_cast<size_t>(rows * C));
  L->predict->forward(h, rows, scores_.data());
  router_.route_rows(layer, h, rows, d, scores_.data(), C, C, ids_, route_weights_);
  grouped_.forward(L->groups, h, rows, d, ids_.data(), route_weights_.data(), C, GroupMix::kSum,
                   out);
  for (int64_t n : grouped_.last_counts()) runs_ += n;
  slots_ += rows * C;
}

}  // namespace bricks::engine
