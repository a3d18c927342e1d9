// The self-adapting partition of Holmes: how many consecutive layers each pipeline stage
// holds, so that no stage is held up by its links more than the others. A stage's time per
// step is the larger of what its GPUs and what its NIC do:
//
//   time(s) = max(L_s * layer_s + fixed_s[s],  L_s * nic_s[s])
//
// layer_s is one layer's compute; fixed_s[s] what the stage does whatever its layers: its
// send of the activations over its outgoing link (or the output projection on the last
// stage); nic_s[s] the time one layer's KV of a step takes over the slowest link it leaves
// the stage by (a prefill stage's KV to its decode stages; 0 where none leaves the node).
// A stage before a slow link gets fewer layers; where the KV is what the NICs are busiest
// with, every stage's NIC gets an even share of it.
//
// Thread safety: a function without state.
#pragma once

#include <cstdint>
#include <vector>

namespace bricks::engine {

// `layers` over S stages (S = fixed_s[i].size() for every instance i, which share the one
// partition), each stage at least one layer, minimising the slowest stage over all the
// instances, time(s) as above for instance i with layer_s[i], fixed_s[i] and nic_s[i]
// (nic_s empty: 0 everywhere). One layer at a time goes to the stage whose time after taking
// it is smallest (ties to the earlier stage), which is optimal because each stage's time
// grows with its own layers alone.
std::vector<int32_t> adaptive_layers(int32_t layers, const std::vector<double>& layer_s,
                                     const std::vector<std::vector<double>>& fixed_s,
                                     const std::vector<std::vector<double>>& nic_s = {});

}  // namespace bricks::engine
