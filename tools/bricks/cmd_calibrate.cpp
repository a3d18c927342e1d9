// `bricks calibrate MANIFEST --out FILE.csv`: measures the manifest's device (cpu or cuda)
// step by step over a grid of batch shapes and writes the step times as a calibration table
// for the sim device (core/sim/calibration.h), so the simulator can be checked against, or
// replaced by, the hardware it models.
//
// Each grid point is one forward pass built directly on the device: one prompt of P tokens
// (when P > 0) and D decoding sequences whose contexts add up to S (S / D tokens each, the
// remainder spread one token at a time). Decode time is linear in S (each decode reads its
// context's K and V once), so two values of S bracket it; the default grid is P in
// {0, 128, 512}, D in {0, 1, 16, 64} and S in {D_max, context length}. KV contents are
// whatever the pool holds: timing only. The point with neither holds the fixed cost of a
// pass (one token through every layer, nothing sampled), as calibration tables expect.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "command.h"
#include "engine/engine.h"
#include "manifest_input.h"
#include "runtime/runtime.h"

namespace bricks::cli {
namespace {

struct CalibrateArgs {
  std::string manifest;
  std::string out;
  std::vector<int32_t> prefill{0, 128, 512};
  std::vector<int32_t> decodes{0, 1, 16, 64};
  std::vector<int64_t> context_sums;  // empty: {max decodes, the model's context}
  int32_t repeats = 3;
  std::string model;
};

// One step of the grid: the batch and its page table over blocks 0, 1, 2, ...
struct GridStep {
  engine::ForwardBatch batch;
  std::vector<int32_t> indptr{0}, indices, last_page_len;
  bricks_page_table table{};
  int64_t blocks = 0;

  // A sequence whose KV holds `context` tokens after this step, the last `fresh` of them
  // computed now.
  void add(const engine::Request* r, int64_t context, int32_t fresh, int32_t block_size,
           int32_t vocab) {
    const int64_t first_block = blocks;
    const int64_t n = (context + block_size - 1) / block_size;
    for (int64_t b = 0; b < n; ++b) indices.push_back(static_cast<int32_t>(first_block + b));
    blocks += n;
    indptr.push_back(static_cast<int32_t>(indices.size()));
    last_page_len.push_back(static_cast<int32_t>(context - (n - 1) * block_size));
    batch.requests.push_back(r);
    for (int64_t pos = context - fresh; pos < context; ++pos) {
      batch.token_ids.push_back(static_cast<int32_t>((pos * 7919) % vocab));
      batch.positions.push_back(static_cast<int32_t>(pos));
      batch.slots.push_back(static_cast<int32_t>(first_block * block_size + pos));
    }
    batch.qo_indptr.push_back(static_cast<int32_t>(batch.token_ids.size()));
    batch.logit_rows.push_back(static_cast<int32_t>(batch.token_ids.size()) - 1);
  }
  void finish(int32_t block_size) {
    table = bricks_page_table{indptr.data(), indices.data(), last_page_len.data(),
                              static_cast<int32_t>(last_page_len.size()), block_size};
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int run_calibrate(const CalibrateArgs& a) {
  auto m = load_manifest_reporting(a.manifest);
  if (!m) return kExitInputError;
  const std::string kind = m->proto.device().kind().empty() ? "cpu" : m->proto.device().kind();
  if (kind != "cpu" && kind != "cuda") {
    std::fprintf(stderr,
                 "error: %s: device.kind is \"%s\"; calibrate measures a device that computes "
                 "the model: give a manifest with device.kind \"cpu\" or \"cuda\"\n",
                 a.manifest.c_str(), kind.c_str());
    return kExitFailure;
  }
  std::unique_ptr<engine::Runtime> rt;
  try {
    engine::RuntimeOptions ro;
    ro.model = a.model;
    rt = engine::Runtime::create(*m, ro);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }
  engine::Engine& eng = rt->engine();
  const model::LlamaConfig& c = eng.model().config;
  const int32_t block_size = eng.pool().shape().block_size;
  const int32_t max_decodes = *std::max_element(a.decodes.begin(), a.decodes.end());
  std::vector<int64_t> sums = a.context_sums;
  if (sums.empty()) sums = {std::max(1, max_decodes), int64_t{c.context_length}};
  std::sort(sums.begin(), sums.end());
  sums.erase(std::unique(sums.begin(), sums.end()), sums.end());

  // Every point must be a batch this model and pool can hold.
  const auto fail = [&](const std::string& what, const std::string& fix) {
    std::fprintf(stderr, "error: %s: %s; %s\n", a.manifest.c_str(), what.c_str(), fix.c_str());
    return kExitFailure;
  };
  for (int32_t p : a.prefill) {
    if (p > c.context_length) {
      return fail("--prefill " + std::to_string(p) + " is beyond the model's context of " +
                      std::to_string(c.context_length) + " tokens",
                  "give at most " + std::to_string(c.context_length));
    }
  }
  int32_t min_decodes = std::max(1, max_decodes);
  for (int32_t d : a.decodes) {
    if (d > 0) min_decodes = std::min(min_decodes, d);
  }
  for (int32_t d : a.decodes) {
    for (int64_t s : sums) {
      if (d > 0 && (s < d || (s + d - 1) / d > c.context_length)) {
        return fail("--context-sums " + std::to_string(s) + " cannot be shared by " +
                        std::to_string(d) + " decoding sequences of 1 to " +
                        std::to_string(c.context_length) + " tokens each",
                    "give sums from " + std::to_string(max_decodes) + " to " +
                        std::to_string(int64_t{c.context_length} * min_decodes));
      }
    }
  }

  engine::Device& device = eng.device();
  std::vector<engine::Request> requests(static_cast<size_t>(max_decodes) + 1);
  std::vector<float> logits;
  std::string csv =
      "# Step times measured by `bricks calibrate` on " + device.describe() + "\n# manifest " +
      a.manifest + ", block size " + std::to_string(block_size) + ", median of " +
      std::to_string(a.repeats) +
      " forward passes per point\nnum_prefill_tokens,num_decode_seqs,decode_context_sum,seconds\n";
  const size_t points = a.prefill.size() * a.decodes.size() * sums.size();
  size_t done = 0;
  for (int32_t p : a.prefill) {
    for (int32_t d : a.decodes) {
      double zero_decode_s = -1;
      for (int64_t s : sums) {
        ++done;
        double seconds = zero_decode_s;
        if (d > 0 || seconds < 0) {
          GridStep g;
          g.batch.qo_indptr.assign(1, 0);
          for (int32_t i = 0; i < d; ++i) {
            const int64_t context = s / d + (i < s % d ? 1 : 0);
            g.add(&requests[static_cast<size_t>(i)], context, 1, block_size, c.vocab_size);
          }
          if (p > 0) g.add(&requests.back(), p, p, block_size, c.vocab_size);
          if (p == 0 && d == 0) {
            // The fixed cost of a pass: one token through every layer, nothing sampled.
            g.add(&requests.back(), 1, 1, block_size, c.vocab_size);
            g.batch.logit_rows.clear();
          }
          if (g.blocks > eng.pool().num_device_blocks()) {
            return fail("the point " + std::to_string(p) + " prompt tokens, " + std::to_string(d) +
                            " decodes over " + std::to_string(s) + " tokens needs " +
                            std::to_string(g.blocks) + " KV blocks and the device has " +
                            std::to_string(eng.pool().num_device_blocks()),
                        "give device.kv_cache_bytes more, or smaller --context-sums");
          }
          g.finish(block_size);
          std::vector<double> times;
          for (int32_t r = 0; r <= a.repeats; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            device.forward(g.batch, g.table, logits);
            device.end_step();
            const double t =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (r > 0) times.push_back(t);  // the first one warms up
          }
          seconds = std::max(median(times), 1e-9);
          if (d == 0) zero_decode_s = seconds;
        }
        char line[128];
        std::snprintf(line, sizeof line, "%d,%d,%lld,%.9f\n", p, d, static_cast<long long>(s),
                      seconds);
        csv += line;
        std::fprintf(stderr, "  [%zu/%zu] prefill %d, %d decodes over %lld tokens: %.3f ms\n", done,
                     points, p, d, static_cast<long long>(s), seconds * 1e3);
      }
    }
  }
  std::ofstream out(a.out);
  out << csv;
  if (!out.flush()) {
    std::fprintf(stderr, "error: cannot write %s\n", a.out.c_str());
    return kExitInputError;
  }
  std::printf("wrote %s: %zu steps on %s\n", a.out.c_str(), points, device.describe().c_str());
  return kExitOk;
}

void add_calibrate_flags(CLI::App* cmd, CalibrateArgs* a) {
  cmd->add_option("manifest", a->manifest, "Manifest with device.kind \"cpu\" or \"cuda\"")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", a->out, "The calibration table to write (.csv)")->required();
  cmd->add_option("--model", a->model, "Model file to use instead of the manifest's")
      ->check(CLI::ExistingPath);
  cmd->add_option("--prefill", a->prefill, "Prompt tokens in the step (0 = none), a grid axis")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--decodes", a->decodes, "Decoding sequences in the step, a grid axis")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--context-sums", a->context_sums,
                  "Tokens of KV the decoding sequences attend to, together, a grid axis "
                  "(default: the largest --decodes and the model's context)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  cmd->add_option("--repeats", a->repeats, "Timed forward passes per point (median kept)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->footer(
      "Give the file to a sim manifest as device.calibration_file to replay workloads at the "
      "measured step times, or compare it with `bricks step-cost` on the sim device's model "
      "of the same GPU. Exit code: 0 written, 1 a bad manifest or grid, 3 a file could not "
      "be read or written.");
}

const Command kCalibrate{"calibrate",
                         58,
                         "Measure the device's step times over a grid of batch shapes and write "
                         "them as a calibration table for the sim device",
                         add_calibrate_flags,
                         run_calibrate,
                         Work::kForwardPasses};

}  // namespace
}  // namespace bricks::cli
