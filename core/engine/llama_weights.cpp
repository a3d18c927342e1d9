#include "engine/llama_weights.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <tbb/parallel_for.h>

#include "cpu/convert.h"

namespace bricks::engine {

cpu::WeightView weight_view(const model::TensorView& t) {
  const cpu::WeightType type = t.dtype;
  const int64_t cols = t.ne.empty() ? 0 : t.ne[0];
  int64_t rows = 1;
  for (size_t i = 1; i < t.ne.size(); ++i) rows *= t.ne[i];
  return cpu::WeightView{type, rows, cols, t.data};
}

cpu::WeightView weight_slice(const model::TensorView& t, int64_t index) {
  cpu::WeightView w = weight_view(t);
  const int64_t rows = t.ne.size() > 1 ? t.ne[1] : 1;
  const int64_t count = t.ne.size() > 2 ? t.ne[2] : 1;
  if (index < 0 || index >= count) {
    throw model::ModelError("tensor " + t.name + " has " + std::to_string(count) +
                            " matrices; asked for matrix " + std::to_string(index));
  }
  w.rows = rows;
  w.data = static_cast<const char*>(t.data) + cpu::row_bytes(w.type, w.cols) * rows * index;
  return w;
}

namespace {

std::vector<float> norm_vector(const model::TensorView& t) {
  cpu::WeightView w = weight_view(t);
  std::vector<float> out(static_cast<size_t>(w.cols));
  cpu::dequantize_row(w, 0, out.data());
  return out;
}

// The matrices the loader builds a Linear over; token_embd is one when the output shares it.
bool linear_matrix(const std::string& name, bool tied) {
  static const char* const kSuffixes[] = {
      "attn_q.weight",        "attn_k.weight",      "attn_v.weight",       "attn_output.weight",
      "ffn_gate.weight",      "ffn_up.weight",      "ffn_down.weight",     "ffn_gate_inp.weight",
      "ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight"};
  if (name == "output.weight") return true;
  if (name == "token_embd.weight") return tied;
  if (!name.starts_with("blk.")) return false;
  return std::any_of(std::begin(kSuffixes), std::end(kSuffixes),
                     [&](const char* suffix) { return name.ends_with(suffix); });
}

// The 2-D and larger tensors' types, largest share of bytes first: "q4_k 81%, q6_k 19%".
std::string type_shares(const model::Model& m) {
  std::map<std::string, size_t> bytes;
  size_t total = 0;
  for (const model::TensorView& t : m.tensors()) {
    if (t.ne.size() < 2) continue;
    bytes[model::dtype_name(t.dtype)] += t.nbytes;
    total += t.nbytes;
  }
  std::vector<std::pair<size_t, std::string>> order;
  for (const auto& [name, b] : bytes) order.emplace_back(b, name);
  std::sort(order.rbegin(), order.rend());
  std::string s;
  for (const auto& [b, name] : order) {
    if (!s.empty()) s += ", ";
    s += name;
    if (order.size() > 1) s += " " + std::to_string((b * 100 + total / 2) / total) + "%";
  }
  return s;
}

}  // namespace

LlamaWeights LlamaWeights::load(const model::Model& m, cpu::Compute compute,
                                const LoadOptions& options) {
  const std::vector<bool>& streamed = options.streamed;
  const bool file_pages = options.file_pages;
  LlamaWeights w;
  w.config = m.config();
  auto on_disk = [&](const model::TensorView& t) {
    if (!t.name.starts_with("blk.") || t.ne.size() < 2) return false;
    const auto layer = static_cast<size_t>(std::atoi(t.name.c_str() + 4));
    return layer < streamed.size() && streamed[layer];
  };
  const bool tied = m.config().tied_embeddings;
  // Two rewrites at load, into one arena, after which the file's pages of the matrix are
  // given back, so the process holds the same bytes:
  // - bf16 compute holds the resident f16 matrices as bf16, converted once: its matmuls and
  //   dot products would otherwise convert every panel on every call (a sixth of a 512-token
  //   prefill);
  // - q4_K matrices that the AVX512_VNNI or plain AVX2 kernels read in the lane layout
  //   (cpu/weight_lanes.h) are repacked to it, q5_K and q6_K ones that the plain AVX2 kernels
  //   read, and with q8_lanes (AVX512_VNNI) the q8_0 ones: q4_K runs as fast there at one
  //   activation row and faster at more on AVX512_VNNI, and on AVX2 faster up to 15 rows and
  //   about as fast from 16; q6_K on AVX2 faster at every row count, q5_K up to 8 rows and a
  //   little slower at 16 (a q5_k_m file as fast end to end there); q8_0 faster at more and
  //   slower at one (docs/benchmarks.md).
  //   Not the token embeddings, whose rows are looked up in the file's layout, nor the 3-d
  //   expert tensors, sliced by byte offsets.
  std::map<std::string, model::TensorView> rewritten;
  std::set<std::string> lanes;
  std::vector<const model::TensorView*> rewrites;
  // Each rewritten matrix starts on a cache line.
  const auto padded = [](size_t bytes) { return (bytes + 63) / 64 * 64; };
  size_t total = 0;
  for (const model::TensorView& t : m.tensors()) {
    if (!linear_matrix(t.name, tied) || on_disk(t)) continue;
    const bool to_bf16 = compute == cpu::Compute::BF16 && t.dtype == model::DType::F16;
    const bool k_quant = t.dtype == model::DType::Q4_K || t.dtype == model::DType::Q5_K ||
                         t.dtype == model::DType::Q6_K;
    const bool to_lanes = (k_quant || options.q8_lanes) && t.name != "token_embd.weight" &&
                          t.ne.size() == 2 && cpu::lanes_layout_fits(t.dtype, t.ne[0], compute);
    if (!to_bf16 && !to_lanes) continue;
    if (to_lanes) lanes.insert(t.name);
    rewrites.push_back(&t);
    total += padded(t.nbytes);
  }
  if (!rewrites.empty()) {
    w.arena = std::make_unique<cpu::WeightArena>(total);
    std::vector<char*> dst;
    char* at = w.arena->data();
    for (const model::TensorView* t : rewrites) {
      dst.push_back(at);
      at += padded(t->nbytes);
    }
    // Each matrix's file pages are given back as soon as it is rewritten, so that the process
    // never holds both copies of more than the matrices in flight.
    auto release = [](const model::TensorView& t) {
      if (t.file != nullptr) cpu::release_pages(t.data, t.nbytes);
    };
    for (size_t i = 0; i < rewrites.size(); ++i) {
      const model::TensorView& t = *rewrites[i];
      model::TensorView& copy = rewritten.emplace(t.name, t).first->second;
      copy.data = dst[i];
      copy.file = nullptr;
      if (lanes.contains(t.name)) continue;  // below, whole matrices side by side
      copy.dtype = model::DType::BF16;
      const int64_t n = t.numel();
      constexpr int64_t kChunk = int64_t{1} << 20;
      tbb::parallel_for(int64_t{0}, (n + kChunk - 1) / kChunk, [&](int64_t c) {
        const int64_t first = c * kChunk, count = std::min(kChunk, n - first);
        cpu::f16_to_bf16(static_cast<const uint16_t*>(t.data) + first,
                         reinterpret_cast<uint16_t*>(dst[i]) + first, count);
      });
      release(t);
    }
    tbb::parallel_for(size_t{0}, rewrites.size(), [&](size_t i) {
      const model::TensorView& t = *rewrites[i];
      if (!lanes.contains(t.name)) return;
      cpu::pack_lanes(weight_view(t), dst[i]);
      release(t);
    });
    w.arena->seal();
  }
  auto tensor = [&](const std::string& name) -> const model::TensorView& {
    const auto it = rewritten.find(name);
    return it != rewritten.end() ? it->second : m.tensor(name);
  };
  auto linear = [&](const std::string& name) {
    cpu::WeightView view = weight_view(tensor(name));
    if (lanes.contains(name)) view.layout = cpu::WeightLayout::Lanes;
    return std::make_unique<cpu::Linear>(view, compute);
  };
  w.token_embd = weight_view(tensor("token_embd.weight"));
  w.output_norm = norm_vector(m.tensor("output_norm.weight"));
  w.output = linear(tied ? "token_embd.weight" : "output.weight");
  w.layers.resize(static_cast<size_t>(w.config.n_layers));
  for (int32_t l = 0; l < w.config.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights& L = w.layers[static_cast<size_t>(l)];
    L.attn_norm = norm_vector(m.tensor(p + "attn_norm.weight"));
    L.ffn_norm = norm_vector(m.tensor(p + "ffn_norm.weight"));
    L.wq = linear(p + "attn_q.weight");
    L.wk = linear(p + "attn_k.weight");
    L.wv = linear(p + "attn_v.weight");
    L.wo = linear(p + "attn_output.weight");
    if (w.config.n_experts > 0) {
      L.gate_inp = linear(p + "ffn_gate_inp.weight");
      const model::TensorView& gate = tensor(p + "ffn_gate_exps.weight");
      const model::TensorView& up = tensor(p + "ffn_up_exps.weight");
      const model::TensorView& down = tensor(p + "ffn_down_exps.weight");
      L.experts.resize(static_cast<size_t>(w.config.n_experts));
      for (int32_t e = 0; e < w.config.n_experts; ++e) {
        ExpertWeights& E = L.experts[static_cast<size_t>(e)];
        E.gate = std::make_unique<cpu::Linear>(weight_slice(gate, e), compute);
        E.up = std::make_unique<cpu::Linear>(weight_slice(up, e), compute);
        E.down = std::make_unique<cpu::Linear>(weight_slice(down, e), compute);
      }
      continue;
    }
    if (m.find(p + "ffn_gate.weight") == nullptr) {
      throw model::ModelError(m.path().string() + ": tensor " + p +
                              "ffn_gate.weight is missing and the model declares no experts");
    }
    L.w_gate = linear(p + "ffn_gate.weight");
    L.w_up = linear(p + "ffn_up.weight");
    L.w_down = linear(p + "ffn_down.weight");
  }
  // Fault the mapped weights in at load, not during the first request's prefill; a streamed
  // layer's matrices stay on disk (its norms are in the vectors above), and the ones
  // rewritten above are already in memory.
  // Resident tensors that lie unchanged in a file mapping go to huge pages where the kernel
  // allows (cpu::prefault_huge), as runs of neighbours in the same file so that small tensors
  // share whole 2 MiB pages too; the others are only faulted in.
  struct Run {
    const char* begin;
    const char* end;
    const std::filesystem::path* file;
    uint64_t end_offset;
  };
  std::vector<Run> runs;
  for (const model::TensorView& t : m.tensors()) {
    if (on_disk(t) || t.nbytes == 0 || rewritten.contains(t.name)) continue;
    if (t.file == nullptr || file_pages) {
      cpu::prefault(t.data, t.nbytes);
      continue;
    }
    const auto* begin = static_cast<const char*>(t.data);
    runs.push_back({begin, begin + t.nbytes, t.file.get(), t.file_offset + t.nbytes});
  }
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.begin < b.begin; });
  for (size_t i = 0; i < runs.size();) {
    Run run = runs[i++];
    // A neighbour joins when the bytes between (alignment padding) are the same file's, at
    // the same distance in the file as in memory: then they are in the same mapping.
    while (i < runs.size() && *runs[i].file == *run.file && runs[i].begin >= run.end &&
           runs[i].begin - run.end <= 4096 &&
           static_cast<uint64_t>(runs[i].end - run.end) == runs[i].end_offset - run.end_offset) {
      run.end = runs[i].end;
      run.end_offset = runs[i].end_offset;
      ++i;
    }
    cpu::prefault_huge(run.begin, static_cast<size_t>(run.end - run.begin));
  }
  w.compute_path = w.layers.empty() ? w.output->describe() : w.layers[0].wq->describe();
  w.weight_types = type_shares(m);
  if (rewritten.size() > lanes.size()) w.weight_types += " (f16 held as bf16)";
  std::set<std::string> lane_types;
  for (const std::string& name : lanes) lane_types.insert(model::dtype_name(m.tensor(name).dtype));
  if (!lane_types.empty()) {
    std::string names;
    for (const std::string& t : lane_types) names += (names.empty() ? "" : ", ") + t;
    w.weight_types += " (" + names + " repacked to the lane layout)";
  }
  if (options.q8_lanes && !lane_types.contains(model::dtype_name(model::DType::Q8_0))) {
    const bool cpu_fits =
        cpu::lanes_layout_fits(model::DType::Q8_0, cpu::kLaneGroupValues, cpu::Compute::F32);
    w.weight_types += std::string(" (q8_lane_layout not applied: ") +
                      (compute != cpu::Compute::F32 ? "it needs f32 compute"
                       : !cpu_fits                  ? "this CPU lacks AVX512_VNNI"
                                   : "no q8_0 matrix of a multiple of 512 columns") +
                      ")";
  }
  return w;
}

size_t LlamaWeights::bytes_per_token() const {
  size_t total = output->weight_bytes() + cpu::row_bytes(token_embd.type, token_embd.cols);
  for (const LayerWeights& L : layers) {
    for (const auto* lin : {L.wq.get(), L.wk.get(), L.wv.get(), L.wo.get(), L.w_gate.get(),
                            L.w_up.get(), L.w_down.get(), L.gate_inp.get()}) {
      if (lin != nullptr) total += lin->weight_bytes();
    }
    if (!L.experts.empty()) {
      const ExpertWeights& E = L.experts.front();
      const size_t expert = E.gate->weight_bytes() + E.up->weight_bytes() + E.down->weight_bytes();
      total += expert * static_cast<size_t>(std::max(config.n_experts_used, 1));
    }
  }
  return total;
}

}  // namespace bricks::engine
