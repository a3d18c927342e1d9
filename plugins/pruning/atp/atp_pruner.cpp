// pruning/atp: ATP-LLaVA's adaptive token pruning in a training-free form (atp_rule.h):
// per request and per pruning layer, a threshold from text importance and image-token
// self-attention, clamped to bounds, plus spatial coverage of the patch grid.
//
// Thread safety: one host thread at a time (abi.h rule).
#include <cstdint>
#include <string>
#include <vector>

#include "atp_rule.h"
#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"

namespace {

using bricks::Error;

class Atp final : public bricks::Pruner {
 public:
  Atp(const bricks::Host& host, const bricks::Params& params)
      : Pruner(host), layer_(params.get_int("layer")), stride_(params.get_int("stride")) {
    s_.target_keep = params.get_float("target_keep");
    s_.min_keep = params.get_float("min_keep");
    s_.max_keep = params.get_float("max_keep");
    s_.text_weight = params.get_float("text_weight");
    s_.cell = static_cast<int32_t>(params.get_int("cell"));
    if (s_.min_keep > s_.max_keep) {
      throw Error::invalid("pruning atp: min_keep " + std::to_string(s_.min_keep) +
                           " is above max_keep " + std::to_string(s_.max_keep) +
                           "; give min_keep <= max_keep");
    }
  }

  // After `layer`, and every `stride` layers after it when stride > 0 (never after the
  // last layer: nothing would be left to prune for).
  bool prunes_after(int32_t layer, int32_t num_layers) const override {
    if (layer < layer_ || layer >= num_layers - 1) return false;
    if (stride_ == 0) return layer == layer_;
    return (layer - layer_) % stride_ == 0;
  }

  void select(const bricks_prune_input& in, bricks_keep_set& out) override {
    if (in.num_tokens < 0) throw Error::invalid("pruning atp: num_tokens is negative");
    if (in.num_tokens > 0 && (in.prunable == nullptr || in.text_scores == nullptr)) {
      throw Error::invalid(
          "pruning atp: prunable and text_scores must be set (wire an attention brick that "
          "provides attention.scores)");
    }
    keep_ = atp::select(s_, in);
    out.keep = keep_.data();
    out.num_keep = static_cast<int32_t>(keep_.size());
  }

 private:
  const int64_t layer_;
  const int64_t stride_;
  atp::Settings s_;
  std::vector<int32_t> keep_;  // the last answer, valid until the next call
};

const bricks_param_spec kParams[] = {
    bricks::param_int("layer", 2, 0, 1 << 20, "First layer to prune after (0-based)."),
    bricks::param_int("stride", 0, 0, 1 << 20,
                      "Also prune every `stride` layers after `layer` (0: only after it)."),
    bricks::param_float("target_keep", 0.5, 0.0, 1.0,
                        "Share of image tokens a normal spread of scores keeps at each point; "
                        "the threshold is mean + z * std of the scores for this share."),
    bricks::param_float("min_keep", 0.05, 0.0, 1.0, "Least share of image tokens kept."),
    bricks::param_float("max_keep", 1.0, 0.0, 1.0,
                        "Most share kept by the threshold (spatial coverage may add more)."),
    bricks::param_float("text_weight", 0.5, 0.0, 1.0,
                        "Weight of text attention against image self-attention in the score."),
    bricks::param_int("cell", 4, 0, 1024,
                      "Spatial coverage: keep at least one patch per cell x cell square of "
                      "the grid (0: off)."),
    bricks::param_bool("self_scores", true,
                       "Ask the engine for attention among image tokens (redundancy); without "
                       "it the score is text attention only."),
};
const char* const kRequires[] = {BRICKS_CAP_ATTENTION_SCORES};

}  // namespace

BRICKS_PLUGIN("bricks_pruning_atp", "1.0.0", "Apache-2.0",
              bricks::describe<Atp>("atp", "1.0.0",
                                    "ATP: adaptive per-request, per-layer image token pruning "
                                    "from text and self attention, with spatial coverage.")
                  .params(kParams)
                  .requires_caps(kRequires))
