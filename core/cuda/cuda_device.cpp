// The cuda device (cuda_device.h): weights, KV pools and the forward pass on one GPU.
#include "cuda/cuda_device.h"

#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cuda/cuda_check.h"
#include "cuda/cuda_forward.h"
#include "cuda/cuda_weights.h"
#include "engine/brick_calls.h"

namespace bricks::cuda {
namespace {

class CudaDevice final : public engine::Device {
 public:
  CudaDevice(CudaWeights weights, const host::BrickInstance& attention, bool overlap_copies,
             std::string summary)
      : weights_(std::move(weights)),
        attention_(attention),
        overlap_copies_(overlap_copies),
        summary_(std::move(summary)) {
    check(cudaStreamCreateWithFlags(&compute_, cudaStreamNonBlocking), "creating a stream");
    check(cudaStreamCreateWithFlags(&copies_, cudaStreamNonBlocking), "creating a stream");
    forward_ = std::make_unique<CudaForward>(weights_, attention_, compute_);
  }

  ~CudaDevice() override {
    forward_.reset();
    for (cudaEvent_t e : layer_done_) cudaEventDestroy(e);
    cudaStreamDestroy(copies_);
    cudaStreamDestroy(compute_);
  }

  engine::Clock& clock() override { return clock_; }
  bool computes_logits() const override { return true; }
  // The engine's pool only counts; the bytes are here, in GPU and pinned host memory.
  bool stores_kv() const override { return false; }

  void bind(engine::KvPool& pool) override {
    pool_ = &pool;
    const engine::KvShape& s = pool.shape();
    if (s.num_layers != weights_.config.n_layers) {
      throw std::logic_error("cuda device: the KV pool has " + std::to_string(s.num_layers) +
                             " layers, the model " + std::to_string(weights_.config.n_layers));
    }
    if (pool.num_disk_blocks() > 0) {
      throw std::logic_error("cuda device: no disk tier for KV");
    }
    layer_bytes_ = s.block_bytes() / static_cast<size_t>(2 * s.num_layers);
    const size_t device_layer = layer_bytes_ * static_cast<size_t>(pool.num_device_blocks());
    const size_t host_layer = layer_bytes_ * static_cast<size_t>(pool.num_host_blocks());
    device_kv_.reserve(2 * device_layer * static_cast<size_t>(s.num_layers), "the KV cache");
    if (host_layer > 0) {
      host_kv_.reserve(2 * host_layer * static_cast<size_t>(s.num_layers), "the host KV tier");
    }
    std::vector<void*> k, v;
    for (int32_t l = 0; l < s.num_layers; ++l) {
      k.push_back(at(BRICKS_TIER_DEVICE, 0, l, 0));
      v.push_back(at(BRICKS_TIER_DEVICE, 0, l, 1));
    }
    forward_->set_pools(std::move(k), std::move(v), s.dtype == BRICKS_DTYPE_F16);
    layer_done_.resize(static_cast<size_t>(s.num_layers));
    for (cudaEvent_t& e : layer_done_) {
      check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "creating an event");
    }
  }

  // Queues each layer's copies on the copy stream and marks the layer done with an event;
  // the forward pass waits for a layer's event before it writes that layer's KV, so a block
  // swapped out is read before it is reused, and one swapped in is there before it is read.
  size_t copy_kv(const bricks_block_copy* copies, int32_t count) override {
    if (pool_ == nullptr) throw std::logic_error("cuda device: copy_kv before bind");
    const size_t moved = pool_->copy(copies, count);  // checks every copy, counts the bytes
    if (count == 0) return moved;
    const int32_t layers = pool_->shape().num_layers;
    for (int32_t l = 0; l < layers; ++l) {
      for (int32_t i = 0; i < count; ++i) {
        const bricks_block_copy& c = copies[i];
        const size_t bytes = layer_bytes_ * static_cast<size_t>(c.num_blocks);
        for (int kv = 0; kv < 2; ++kv) {
          check(cudaMemcpyAsync(at(c.dst_tier, c.dst_block, l, kv),
                                at(c.src_tier, c.src_block, l, kv), bytes, cudaMemcpyDefault,
                                copies_),
                "copying KV blocks");
        }
      }
      check(cudaEventRecord(layer_done_[static_cast<size_t>(l)], copies_), "recording an event");
    }
    pending_ = true;
    return moved;
  }

  void end_step() override {
    if (!pending_) return;
    check(cudaStreamSynchronize(copies_), "the KV copies");
    pending_ = false;
  }

  void forward(const engine::ForwardBatch& batch, const bricks_page_table& table,
               std::vector<float>& logits) override {
    if (pool_ == nullptr) throw std::logic_error("cuda device: forward before bind");
    attention_.plan(engine::llama_attention_batch(weights_.config, batch.qo_indptr.data(), table,
                                                  pool_->shape().dtype));
    const int32_t last = pool_->shape().num_layers - 1;
    forward_->run(
        batch,
        [&](int32_t layer) {
          if (!pending_) return;
          // Without overlap every layer waits for all copies; waiting twice is free.
          const int32_t l = overlap_copies_ ? layer : last;
          check(cudaStreamWaitEvent(compute_, layer_done_[static_cast<size_t>(l)], 0),
                "ordering the step after its KV copies");
        },
        logits);
  }

  std::string describe() const override { return summary_; }

 private:
  // K (kv = 0) or V of `layer` of `block` of `tier`. Layout per tier: [layer][K|V][block].
  void* at(bricks_tier tier, int32_t block, int32_t layer, int kv) const {
    const bool device = tier == BRICKS_TIER_DEVICE;
    const size_t blocks =
        static_cast<size_t>(device ? pool_->num_device_blocks() : pool_->num_host_blocks());
    std::byte* base = device ? device_kv_.get() : host_kv_.get();
    const size_t slab = (static_cast<size_t>(layer) * 2 + static_cast<size_t>(kv)) * blocks;
    return base + (slab + static_cast<size_t>(block)) * layer_bytes_;
  }

  CudaWeights weights_;
  engine::AttentionCalls attention_;
  bool overlap_copies_;
  std::string summary_;
  engine::WallClock clock_;
  cudaStream_t compute_ = nullptr, copies_ = nullptr;
  std::unique_ptr<CudaForward> forward_;
  engine::KvPool* pool_ = nullptr;
  size_t layer_bytes_ = 0;  // one block's K (or V) in one layer
  DeviceArray<std::byte> device_kv_;
  PinnedBytes host_kv_;
  std::vector<cudaEvent_t> layer_done_;
  bool pending_ = false;  // copies queued this step
};

std::string gpu_name(int ordinal, int64_t* total) {
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, ordinal), "reading the GPU's properties");
  *total = static_cast<int64_t>(p.totalGlobalMem);
  return std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
         std::to_string(p.multiProcessorCount) + " SMs, " + std::to_string(p.totalGlobalMem >> 30) +
         " GiB)";
}

}  // namespace

void require_cuda_device(int32_t ordinal) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice ||
      (e == cudaSuccess && count == 0)) {
    throw CudaUnavailable("no CUDA device on this machine (" +
                          std::string(e == cudaErrorInsufficientDriver
                                          ? "no NVIDIA driver for this CUDA runtime"
                                          : "the driver reports no GPU") +
                          "); use device.kind \"cpu\"");
  }
  if (e != cudaSuccess) {
    throw CudaUnavailable(std::string("the CUDA runtime cannot list GPUs: ") +
                          cudaGetErrorString(e));
  }
  if (ordinal < 0 || ordinal >= count) {
    throw CudaUnavailable("device.cuda_device " + std::to_string(ordinal) + ": this machine has " +
                          std::to_string(count) + " GPU(s), numbered from 0");
  }
}

std::unique_ptr<engine::Device> make_cuda_device(const CudaDeviceOptions& o, CudaDeviceInfo* info) {
  require_cuda_device(o.ordinal);
  std::string name;
  int64_t total = 0;
  try {
    check(cudaSetDevice(o.ordinal), "selecting GPU " + std::to_string(o.ordinal));
    name = gpu_name(o.ordinal, &total);
  } catch (const std::runtime_error& err) {
    throw CudaUnavailable(err.what());
  }
  int shown = -1;
  CudaWeights weights = CudaWeights::upload(*o.model, o.bf16, [&shown](double f) {
    const int tenth = static_cast<int>(f * 10.0);
    if (tenth == shown) return;
    shown = tenth;
    std::fprintf(stderr, "  uploading weights %3d%%\n", tenth * 10);
  });
  info->weight_bytes = weights.bytes;
  size_t free_bytes = 0, total_bytes = 0;
  check(cudaMemGetInfo(&free_bytes, &total_bytes), "reading the GPU's free memory");
  info->free_bytes = static_cast<int64_t>(free_bytes);
  info->summary = "cuda, " + name + ", " + (o.bf16 ? "bf16" : "f16") +
                  " weights and products (cuBLAS), weights " + std::to_string(weights.bytes >> 20) +
                  " MiB";
  return std::make_unique<CudaDevice>(std::move(weights), *o.attention, o.overlap_copies,
                                      info->summary);
}

bool cuda_built() { return true; }

}  // namespace bricks::cuda
