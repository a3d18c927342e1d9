#include "bricks/model/quantize_model.h"

#include <algorithm>
#include <cmath>

#include "run_parallel.h"

namespace bricks::model {
namespace {

constexpr int64_t kChunkValues = int64_t{1} << 20;  // values converted per round of threads

int64_t count_values(const std::vector<int64_t>& ne) {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

// The model facts the type rule needs, from the metadata (the tensor names when it lacks a
// plausible block count).
TensorSlot model_slot(const GgufFile& in) {
  constexpr int64_t kMaxCount = 1 << 20;
  const std::string arch = in.get_string("general.architecture").value_or("llama");
  const int64_t layers = in.get_int(arch + ".block_count").value_or(0);
  const int64_t experts = in.get_int(arch + ".expert_count").value_or(0);
  TensorSlot s;
  s.n_layers = static_cast<int>(std::clamp<int64_t>(layers, 0, kMaxCount));
  s.n_experts = static_cast<int>(std::clamp<int64_t>(experts, 0, kMaxCount));
  if (s.n_layers == 0) {
    for (const GgufTensorInfo& t : in.tensors()) {
      s.n_layers = std::max(s.n_layers, tensor_layer(t.name) + 1);
    }
  }
  s.has_output = in.find_tensor("output.weight") != nullptr;
  return s;
}

// Converts rows [begin, end) of a tensor with rows of `cols` values. Returns false, with
// the row in *bad_row, when a row holds a value that is not finite.
bool convert_rows(DType from, DType to, const unsigned char* src, unsigned char* dst, int64_t cols,
                  int64_t begin, int64_t end, int64_t* bad_row) {
  const size_t in_row = *dtype_bytes(from, cols), out_row = *dtype_bytes(to, cols);
  std::vector<float> values(static_cast<size_t>(cols));
  for (int64_t r = begin; r < end; ++r) {
    to_f32(from, src + static_cast<size_t>(r) * in_row, values);
    for (float v : values) {
      if (!std::isfinite(v)) {
        *bad_row = r;
        return false;
      }
    }
    from_f32(to, values,
             std::span(reinterpret_cast<std::byte*>(dst + static_cast<size_t>(r - begin) * out_row),
                       out_row));
  }
  return true;
}

// Writes tensor `t` converted to `to` into `sink`, a chunk of rows at a time, each chunk's
// rows split between `threads` threads.
void convert_tensor(const GgufFile& in, const GgufTensorInfo& t, DType to, int threads,
                    const GgufWriter::Sink& sink, const std::function<void(int64_t)>& done) {
  const int64_t cols = t.ne.empty() ? 1 : t.ne[0];
  const int64_t rows = cols > 0 ? count_values(t.ne) / cols : 0;
  const size_t out_row = *dtype_bytes(to, cols);
  const int64_t chunk_rows = std::max<int64_t>(1, kChunkValues / std::max<int64_t>(cols, 1));
  const auto* src = static_cast<const unsigned char*>(in.tensor_data(t));
  std::vector<unsigned char> buf;
  for (int64_t first = 0; first < rows; first += chunk_rows) {
    const int64_t n = std::min(chunk_rows, rows - first);
    buf.resize(static_cast<size_t>(n) * out_row);
    const int64_t workers = std::clamp<int64_t>(threads, 1, n);
    std::vector<int64_t> bad(static_cast<size_t>(workers), -1);
    run_parallel(workers, [&](int64_t w) {
      const int64_t b = first + n * w / workers, e = first + n * (w + 1) / workers;
      convert_rows(t.dtype, to, src, buf.data() + static_cast<size_t>(b - first) * out_row, cols, b,
                   e, &bad[static_cast<size_t>(w)]);
    });
    for (int64_t r : bad) {
      if (r >= 0) {
        throw ModelError(in.path().string() + ": tensor '" + t.name + "' row " + std::to_string(r) +
                         " holds a NaN or infinite value; " +
                         "it cannot be quantized (the file is damaged: export it again)");
      }
    }
    sink(buf.data(), buf.size());
    done(n * cols);
  }
}

}  // namespace

std::vector<TensorQuantPlan> plan_quantize(const GgufFile& in, FileType ft) {
  TensorSlot model = model_slot(in);
  std::vector<TensorQuantPlan> plan;
  for (const GgufTensorInfo& t : in.tensors()) {
    TensorQuantPlan p{t.name, t.ne, t.dtype, t.dtype, t.dtype};
    if (is_quantizable(t.name, t.ne.size())) {
      TensorSlot s = model;
      s.name = t.name;
      s.row = t.ne[0];
      s.layer = tensor_layer(t.name);
      p.wanted = preferred_tensor_type(ft, s);
      p.to = fit_row(p.wanted, s.row);
    }
    plan.push_back(std::move(p));
  }
  return plan;
}

QuantizeReport quantize_model(const GgufFile& in, FileType ft, const std::filesystem::path& out,
                              const std::function<void(double)>& progress, int threads) {
  if (out.empty()) throw ModelError("quantize_model: no output path given");
  if (threads <= 0) threads = default_threads();
  const std::vector<TensorQuantPlan> plan = plan_quantize(in, ft);

  GgufWriter w(in.alignment());
  for (const auto& [key, value] : in.metadata()) w.set(key, value);
  w.set("general.file_type", GgufValue::u32(static_cast<uint32_t>(ft)));
  w.set("general.quantization_version", GgufValue::u32(2));

  QuantizeReport report;
  for (const TensorQuantPlan& p : plan) {
    w.add_tensor(p.name, p.to, p.ne);
    const auto n = static_cast<uint64_t>(count_values(p.ne));
    report.values += n;
    report.bytes_in += *dtype_bytes(p.from, static_cast<int64_t>(n));
    report.bytes_out += *dtype_bytes(p.to, static_cast<int64_t>(n));
    ++report.tensors[p.to];
    if (p.to != p.wanted) ++report.fallbacks;
    if (p.to != p.from && dtype_is_quantized(p.from)) ++report.decoded;
  }

  uint64_t done = 0;
  const auto advance = [&](int64_t values) {
    done += static_cast<uint64_t>(values);
    if (progress && report.values > 0) {
      progress(static_cast<double>(done) / static_cast<double>(report.values));
    }
  };
  w.write_atomically(out, [&](size_t i, const GgufWriter::Sink& sink) {
    const TensorQuantPlan& p = plan[i];
    const GgufTensorInfo& t = in.tensors()[i];
    if (p.to == p.from) {
      sink(in.tensor_data(t), t.nbytes);
      advance(count_values(t.ne));
    } else {
      convert_tensor(in, t, p.to, threads, sink, advance);
    }
  });
  return report;
}

}  // namespace bricks::model
