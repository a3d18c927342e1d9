#include "engine/llama_weights.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

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

std::unique_ptr<cpu::Linear> linear(const model::Model& m, const std::string& name,
                                    cpu::Compute compute) {
  return std::make_unique<cpu::Linear>(weight_view(m.tensor(name)), compute);
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
                                const std::vector<bool>& streamed, bool file_pages) {
  LlamaWeights w;
  w.config = m.config();
  w.token_embd = weight_view(m.tensor("token_embd.weight"));
  w.output_norm = norm_vector(m.tensor("output_norm.weight"));
  const model::TensorView* out = m.find("output.weight");
  w.output = out != nullptr ? linear(m, "output.weight", compute)
                            : linear(m, "token_embd.weight", compute);
  w.layers.resize(static_cast<size_t>(w.config.n_layers));
  for (int32_t l = 0; l < w.config.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights& L = w.layers[static_cast<size_t>(l)];
    L.attn_norm = norm_vector(m.tensor(p + "attn_norm.weight"));
    L.ffn_norm = norm_vector(m.tensor(p + "ffn_norm.weight"));
    L.wq = linear(m, p + "attn_q.weight", compute);
    L.wk = linear(m, p + "attn_k.weight", compute);
    L.wv = linear(m, p + "attn_v.weight", compute);
    L.wo = linear(m, p + "attn_output.weight", compute);
    if (w.config.n_experts > 0) {
      L.gate_inp = linear(m, p + "ffn_gate_inp.weight", compute);
      const model::TensorView& gate = m.tensor(p + "ffn_gate_exps.weight");
      const model::TensorView& up = m.tensor(p + "ffn_up_exps.weight");
      const model::TensorView& down = m.tensor(p + "ffn_down_exps.weight");
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
    L.w_gate = linear(m, p + "ffn_gate.weight", compute);
    L.w_up = linear(m, p + "ffn_up.weight", compute);
    L.w_down = linear(m, p + "ffn_down.weight", compute);
  }
  // Fault the mapped weights in at load, not during the first request's prefill; a streamed
  // layer's matrices stay on disk (its norms are in the vectors above).
  auto on_disk = [&](const model::TensorView& t) {
    if (!t.name.starts_with("blk.") || t.ne.size() < 2) return false;
    const auto layer = static_cast<size_t>(std::atoi(t.name.c_str() + 4));
    return layer < streamed.size() && streamed[layer];
  };
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
    if (on_disk(t) || t.nbytes == 0) continue;
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
  return w;
}

size_t LlamaWeights::bytes_per_token() const {
  size_t total = output->weight_bytes();
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
