#include "cuda/cuda_weights.h"

#include <algorithm>
#include <string>

#include "bricks/model/model_error.h"
#include "cpu/convert.h"
#include "engine/llama_weights.h"

namespace bricks::cuda {
namespace {

// Rows converted per copy to the GPU.
constexpr int64_t kRowsPerCopy = 256;

// Writes the rows of `t` as 16-bit into dst (rows x cols), from row `first` of dst on.
void upload_rows(const model::TensorView& t, bool bf16, uint16_t* dst, int64_t first) {
  const cpu::WeightView w = engine::weight_view(t);
  const bool same =
      (bf16 && w.type == cpu::WeightType::BF16) || (!bf16 && w.type == cpu::WeightType::F16);
  if (same) {
    check(cudaMemcpy(dst + first * w.cols, w.data, static_cast<size_t>(w.rows * w.cols) * 2,
                     cudaMemcpyHostToDevice),
          "uploading " + t.name);
    return;
  }
  std::vector<float> row(static_cast<size_t>(w.cols));
  std::vector<uint16_t> chunk(static_cast<size_t>(kRowsPerCopy * w.cols));
  for (int64_t r0 = 0; r0 < w.rows; r0 += kRowsPerCopy) {
    const int64_t n = std::min(kRowsPerCopy, w.rows - r0);
    for (int64_t r = 0; r < n; ++r) {
      cpu::dequantize_row(w, r0 + r, row.data());
      uint16_t* out = chunk.data() + r * w.cols;
      if (bf16) {
        cpu::f32_to_bf16(row.data(), out, w.cols);
      } else {
        cpu::f32_to_f16(row.data(), out, w.cols);
      }
    }
    check(cudaMemcpy(dst + (first + r0) * w.cols, chunk.data(), static_cast<size_t>(n * w.cols) * 2,
                     cudaMemcpyHostToDevice),
          "uploading " + t.name);
  }
}

// The tensors named, stacked by rows into one 16-bit matrix on the GPU.
DeviceArray<uint16_t> stacked(const model::Model& m, const std::vector<std::string>& names,
                              bool bf16, int64_t* bytes) {
  int64_t rows = 0, cols = -1;
  for (const std::string& name : names) {
    const cpu::WeightView w = engine::weight_view(m.tensor(name));
    if (cols >= 0 && w.cols != cols) {
      throw model::ModelError(m.path().string() + ": tensor " + name + " has " +
                              std::to_string(w.cols) + " columns, " + names.front() + " has " +
                              std::to_string(cols));
    }
    cols = w.cols;
    rows += w.rows;
  }
  DeviceArray<uint16_t> out(static_cast<size_t>(rows * cols), names.front());
  int64_t first = 0;
  for (const std::string& name : names) {
    const model::TensorView& t = m.tensor(name);
    upload_rows(t, bf16, out.get(), first);
    first += engine::weight_view(t).rows;
  }
  *bytes += rows * cols * 2;
  return out;
}

DeviceArray<float> norm(const model::Model& m, const std::string& name, int64_t* bytes) {
  const cpu::WeightView w = engine::weight_view(m.tensor(name));
  std::vector<float> v(static_cast<size_t>(w.cols));
  cpu::dequantize_row(w, 0, v.data());
  DeviceArray<float> out(v.size(), name);
  check(cudaMemcpy(out.get(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice),
        "uploading " + name);
  *bytes += static_cast<int64_t>(v.size() * sizeof(float));
  return out;
}

}  // namespace

CudaWeights CudaWeights::upload(const model::Model& m, bool bf16,
                                const std::function<void(double)>& progress) {
  CudaWeights w;
  w.config = m.config();
  w.bf16 = bf16;
  if (w.config.n_experts > 0) {
    throw model::ModelError(m.path().string() +
                            ": a mixture-of-experts model; the cuda device runs dense Llama "
                            "models (use device.kind \"cpu\" for this one)");
  }
  w.embed = stacked(m, {"token_embd.weight"}, bf16, &w.bytes);
  if (m.find("output.weight") != nullptr) w.output = stacked(m, {"output.weight"}, bf16, &w.bytes);
  w.output_norm = norm(m, "output_norm.weight", &w.bytes);
  w.layers.resize(static_cast<size_t>(w.config.n_layers));
  for (int32_t l = 0; l < w.config.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    CudaLayer& L = w.layers[static_cast<size_t>(l)];
    L.attn_norm = norm(m, p + "attn_norm.weight", &w.bytes);
    L.ffn_norm = norm(m, p + "ffn_norm.weight", &w.bytes);
    L.qkv =
        stacked(m, {p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"}, bf16, &w.bytes);
    L.o = stacked(m, {p + "attn_output.weight"}, bf16, &w.bytes);
    L.gate_up = stacked(m, {p + "ffn_gate.weight", p + "ffn_up.weight"}, bf16, &w.bytes);
    L.down = stacked(m, {p + "ffn_down.weight"}, bf16, &w.bytes);
    if (progress) progress(static_cast<double>(l + 1) / w.config.n_layers);
  }
  return w;
}

}  // namespace bricks::cuda
