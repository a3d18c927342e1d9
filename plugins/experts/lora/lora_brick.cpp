// adapter/lora: LoRA adapters attached per request. Loads PEFT directories and GGUF LoRA
// files, checks them against the base model's shape, and adds scale * B (A x) to the rows
// of each request that names an adapter, one shrink/expand pass per adapter present in
// the batch (S-LoRA / Punica style grouping).
//
// Thread safety: one host thread at a time (abi.h rule); apply keeps its scratch in the
// instance.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"
#include "lora_adapter.h"
#include "lora_files.h"

namespace bricks_lora {
namespace {

using bricks::Error;

class Lora final : public bricks::Adapter {
 public:
  Lora(const bricks::Host& host, const bricks::Params& params)
      : Adapter(host), max_adapters_(params.get_int("max_adapters")) {}

  void configure(const bricks_adapter_base& base) override {
    if (base.struct_size < sizeof(bricks_adapter_base)) {
      throw Error::invalid("adapter lora: configure: struct_size is too small");
    }
    if (base.num_layers <= 0 || base.hidden_dim <= 0 || base.num_heads <= 0 ||
        base.num_kv_heads <= 0 || base.head_dim <= 0 || base.head_dim % 2 != 0 ||
        base.ffn_dim <= 0) {
      throw Error::invalid(
          "adapter lora: configure: the base model shape has a dimension <= 0 "
          "or an odd head_dim");
    }
    if (!adapters_.empty()) {
      throw Error::invalid(
          "adapter lora: configure after adapters were loaded; configure once, "
          "before the first load");
    }
    base_ = base;
    configured_ = true;
  }

  int32_t load(const std::string& path, float scale) override {
    if (!configured_) {
      throw Error::invalid(
          "adapter lora: load before configure; the host must give the base "
          "model's shape first");
    }
    if (!std::isfinite(scale))
      throw Error::invalid("adapter lora: " + path + ": scale is not finite");
    if (static_cast<int64_t>(adapters_.size()) >= max_adapters_) {
      throw Error::exhausted("adapter lora: " + path + ": already " +
                             std::to_string(adapters_.size()) +
                             " adapters loaded (max_adapters); raise the max_adapters param");
    }
    adapters_.push_back(LoraAdapter::build(read_adapter(path), base_, scale));
    return static_cast<int32_t>(adapters_.size() - 1);
  }

  void info(int32_t handle, bricks_adapter_info& out) override { out = find(handle).info(); }

  void apply(const bricks_adapter_apply& batch) override {
    apply_updates(adapters_, batch, scratch_, rows_);
  }

  void unload(int32_t handle) override {
    find(handle);
    adapters_[static_cast<size_t>(handle)].reset();
  }

 private:
  const LoraAdapter& find(int32_t handle) const {
    if (handle < 0 || handle >= static_cast<int32_t>(adapters_.size()) || !adapters_[handle]) {
      throw Error::invalid("adapter lora: handle " + std::to_string(handle) + " is not loaded");
    }
    return *adapters_[static_cast<size_t>(handle)];
  }

  const int64_t max_adapters_;
  bool configured_ = false;
  bricks_adapter_base base_{};
  std::vector<std::unique_ptr<LoraAdapter>> adapters_;  // by handle; null once unloaded
  std::vector<float> scratch_;
  std::vector<int32_t> rows_;
};

const bricks_param_spec kParams[] = {
    bricks::param_int("max_adapters", 64, 1, 4096,
                      "Most adapters loaded at once (each keeps its A and B in f32 memory)."),
};
const char* const kProvides[] = {BRICKS_CAP_ADAPTER_LORA, BRICKS_CAP_DEVICE_CPU};

}  // namespace
}  // namespace bricks_lora

BRICKS_PLUGIN("bricks_adapter_lora", "1.0.0", "Apache-2.0",
              bricks::describe<bricks_lora::Lora>(
                  "lora", "1.0.0",
                  "LoRA adapters per request (PEFT or GGUF files), grouped per adapter.")
                  .params(bricks_lora::kParams)
                  .provides(bricks_lora::kProvides))
