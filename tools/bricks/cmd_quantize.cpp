// `bricks quantize IN.gguf OUT.gguf --type T`: re-encodes a GGUF model's weights as one of
// llama.cpp's file types, choosing each tensor's type as llama-quantize does
// (docs/quantization.md).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bricks/model/quantize_model.h"
#include "command.h"
#include "host/did_you_mean.h"
#include "interrupt.h"
#include "progress.h"

namespace bricks::cli {
namespace {

namespace bm = bricks::model;
namespace fs = std::filesystem;

struct QuantizeArgs {
  std::string in, out, type;
  int threads = 0;
  bool force = false;
};

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

double bits_per_weight(bm::DType t) {
  const bm::BlockShape b = bm::dtype_block(t);
  return 8.0 * static_cast<double>(b.bytes) / static_cast<double>(b.values);
}

std::vector<std::string> type_names() {
  std::vector<std::string> names;
  for (bm::FileType t : bm::kAllFileTypes) names.push_back(bm::file_type_name(t));
  return names;
}

// The --help footer: every type with its bits per weight and what it stores.
std::string types_help() {
  std::string s = "Types (bits per weight of the base type; a file averages a little more):\n";
  const std::map<bm::FileType, const char*> what = {
      {bm::FileType::F32, "no loss (conversion only)"},
      {bm::FileType::F16, "IEEE half (conversion only)"},
      {bm::FileType::BF16, "bfloat16 (conversion only)"},
      {bm::FileType::Q8_0, "8-bit, blocks of 32: close to f16"},
      {bm::FileType::Q6_K, "6-bit k-quant, super-blocks of 256"},
      {bm::FileType::Q5_K_M, "q5_K; attn_v and ffn_down of 'more bits' layers in q6_K"},
      {bm::FileType::Q5_K_S, "q5_K (llama.cpp's Q5_K_S)"},
      {bm::FileType::Q5_1, "5-bit with a minimum, blocks of 32"},
      {bm::FileType::Q5_0, "5-bit, blocks of 32"},
      {bm::FileType::Q4_K_M,
       "q4_K; attn_v and ffn_down of 'more bits' layers in q6_K (the usual pick)"},
      {bm::FileType::Q4_K_S,
       "q4_K (Q4_K_S); attn_v of layers 0-3, first eighth's ffn_down in q5_K"},
      {bm::FileType::Q4_1, "4-bit with a minimum, blocks of 32"},
      {bm::FileType::Q4_0, "4-bit, blocks of 32"},
  };
  char line[160];
  for (bm::FileType t : bm::kAllFileTypes) {
    std::snprintf(line, sizeof line, "  %-7s %5.2f  %s\n", bm::file_type_name(t),
                  bits_per_weight(bm::file_type_base(t)), what.at(t));
    s += line;
  }
  s += "'More bits' layers of n: i < n/8, i >= 7n/8 and every third between.\n"
       "Every quantized type stores output.weight (token_embd.weight when the two are tied)\n"
       "in q6_K (q8_0 files: q8_0). A tensor whose rows are not whole 256-value super-blocks\n"
       "falls back as llama.cpp's does: q4_K to q5_0, q5_K to q5_1, q6_K to q8_0. Norms and\n"
       "the expert router (ffn_gate_inp) are copied unchanged, and so is a tensor already in\n"
       "its target type. A quantized input is decoded to f32 first, so its error adds to the\n"
       "new one: quantize from the f16/bf16/f32 file when there is one.\n"
       "Exit status: 0 written; 2 bad command line, or OUT exists without --force; 3 IN cannot\n"
       "be read or OUT cannot be written.\n";
  return s;
}

// "13 f32, 30 q5_0, 9 q6_k" in type order.
std::string type_counts(const std::map<bm::DType, int>& counts) {
  std::string s;
  for (bm::DType t : bm::kAllDTypes) {
    auto it = counts.find(t);
    if (it == counts.end()) continue;
    s += (s.empty() ? "" : ", ") + std::to_string(it->second) + " " + bm::dtype_name(t);
  }
  return s;
}

// Notes on stderr before the work: quantized tensors decoded first, fallback types.
void print_plan_notes(const std::string& in, const std::vector<bm::TensorQuantPlan>& plan) {
  std::map<bm::DType, int> decoded;
  std::map<std::pair<bm::DType, bm::DType>, int> fallbacks;
  for (const bm::TensorQuantPlan& p : plan) {
    if (p.to != p.from && bm::dtype_is_quantized(p.from)) ++decoded[p.from];
    if (p.to != p.wanted) ++fallbacks[{p.wanted, p.to}];
  }
  if (!decoded.empty()) {
    std::fprintf(stderr,
                 "note: %s holds quantized tensors (%s); they are decoded to f32 and quantized "
                 "again, so the two errors add up. Quantize from the f16/bf16/f32 file when "
                 "there is one.\n",
                 in.c_str(), type_counts(decoded).c_str());
  }
  for (const auto& [types, n] : fallbacks) {
    std::fprintf(stderr,
                 "note: %d tensor%s stored as %s instead of %s: %s rows are not whole "
                 "%lld-value blocks (llama.cpp falls back the same way)\n",
                 n, n == 1 ? "" : "s", bm::dtype_name(types.second), bm::dtype_name(types.first),
                 n == 1 ? "its" : "their",
                 static_cast<long long>(bm::dtype_block(types.first).values));
  }
}

int run_quantize(const QuantizeArgs& a) {
  const auto type = bm::file_type_from_name(a.type);
  if (!type) {
    std::fprintf(stderr,
                 "error: unknown --type '%s'; %s (`bricks quantize --help` explains them)\n",
                 a.type.c_str(), host::suggest(a.type, type_names()).c_str());
    return kExitUsage;
  }
  std::error_code ec;
  if (!fs::exists(a.in, ec)) {
    std::fprintf(stderr,
                 "error: %s: no such file; give a GGUF model (`bricks make-model` writes one, "
                 "llama.cpp's convert_hf_to_gguf.py converts a Hugging Face checkpoint)\n",
                 a.in.c_str());
    return kExitInputError;
  }
  if (fs::is_directory(a.in, ec)) {
    std::fprintf(stderr, "error: %s is a directory; bricks quantize reads one .gguf file\n",
                 a.in.c_str());
    return kExitInputError;
  }
  if (fs::exists(a.out, ec) && !a.force) {
    std::fprintf(stderr, "error: %s exists; pass --force to overwrite it\n", a.out.c_str());
    return kExitUsage;
  }
  std::unique_ptr<bm::GgufFile> in;
  try {
    in = bm::GgufFile::open(a.in);
  } catch (const bm::ModelError& e) {
    std::fprintf(stderr,
                 "error: %s\n(%s is not a GGUF file Bricks can read; check it is a whole, "
                 "uncorrupted model file)\n",
                 e.what(), a.in.c_str());
    return kExitInputError;
  }
  const fs::path parent = fs::path(a.out).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec) &&
      (!fs::create_directories(parent, ec) || ec)) {
    std::fprintf(stderr, "error: cannot create the directory %s for %s: %s\n",
                 parent.string().c_str(), a.out.c_str(),
                 ec ? ec.message().c_str() : "a file of that name is in the way");
    return kExitInputError;
  }
  const char* name = bm::file_type_name(*type);
  ProgressBar bar(std::string("quantize ") + name);
  PartialOutput partial(fs::path(a.out + ".partial"));  // quantize_model's own name
  const auto t0 = std::chrono::steady_clock::now();
  bm::QuantizeReport r;
  try {
    print_plan_notes(a.in, bm::plan_quantize(*in, *type));
    r = bm::quantize_model(
        *in, *type, a.out, [&](double f) { bar.update(static_cast<size_t>(f * 1000.0), 1000, ""); },
        a.threads);
  } catch (const bm::ModelError& e) {
    bar.finish();
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitInputError;
  }
  bar.finish();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int tensors = 0;
  for (const auto& [t, n] : r.tensors) tensors += n;
  std::printf(
      "wrote %s (%s): %d tensors (%s), %.1f MiB -> %.1f MiB, %.2f bits per weight, %.1f s\n",
      a.out.c_str(), name, tensors, type_counts(r.tensors).c_str(), mib(r.bytes_in),
      mib(r.bytes_out),
      r.values > 0 ? 8.0 * static_cast<double>(r.bytes_out) / static_cast<double>(r.values) : 0.0,
      secs);
  return kExitOk;
}

void add_quantize_flags(CLI::App* cmd, QuantizeArgs* args) {
  cmd->add_option("in", args->in, "Input .gguf model (any type Bricks reads)")->required();
  cmd->add_option("out", args->out, "Output .gguf file")->required();
  cmd->add_option("--type", args->type, "Target type: " + bm::supported_file_types())->required();
  cmd->add_option("--threads", args->threads, "Threads encoding rows (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_flag("--force", args->force, "Overwrite an existing output file");
  cmd->footer(types_help());
}

const Command kQuantize{
    "quantize", 42,
    "Re-encode a GGUF model's weights as one of llama.cpp's file types (q4_k_m, q8_0, "
    "...), each tensor's type chosen as llama-quantize chooses it",
    add_quantize_flags, run_quantize};

}  // namespace
}  // namespace bricks::cli
