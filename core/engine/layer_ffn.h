// A layer's FFN computed some other way than by its dense weights: mixture-of-experts
// layers (MoeFfn) and dense layers that run only the neuron clusters a router picks
// (NeuronFfn). LlamaForward calls one in place of its dense FFN for the layers it is set on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bricks::engine {

class LayerFfn {
 public:
  virtual ~LayerFfn() = default;

  // out[rows][hidden] = FFN_layer(h) for the FFN-normalised input h[rows][hidden];
  // overwrites out (which does not overlap h). rows == 0 does nothing. Throws
  // host::BrickError when a router brick fails and std::runtime_error on a broken contract.
  //
  // Thread safety: one thread at a time (implementations keep scratch between calls).
  virtual void forward(int32_t layer, const float* h, int64_t rows, float* out) = 0;
};

// The routed FFNs of a model, by layer.
struct RoutedFfns {
  std::vector<std::shared_ptr<LayerFfn>> per_layer;  // [n_layers] or empty: all dense
  std::string summary;  // for the device line, e.g. "moe: router topk, 2 of 4 experts"
};

}  // namespace bricks::engine
