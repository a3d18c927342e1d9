// Presets as files: the shipped ones built into the library equal core/sim/presets/, GPU
// and model files are read (and refused with file:line, the field and the fix), and a
// manifest naming a file or a shipped name gets the GPU, model and constants it names.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "host/catalogue.h"
#include "manifest/manifest.h"
#include "runtime/sim_setup.h"
#include "sim/cost_presets.h"
#include "sim/gpu_presets.h"
#include "sim/model_presets.h"
#include "sim/preset_names.h"
#include "sim/shipped_presets.h"
#include "sim/sim_error.h"
#include "sim_manifest.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kPresets = fs::path(BRICKS_SOURCE_DIR) / "core/sim/presets";

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh directory for files a test writes.
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("sim_presets_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const sim::SimError& e) {
    return e.what();
  }
  return "";
}

TEST(ShippedPresets, EqualTheSourceFilesOneForOne) {
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kPresets)) {
    if (entry.path().extension() != ".textproto") continue;
    ++files;
    const std::string rel = fs::relative(entry.path(), kPresets).generic_string();
    const std::string kind = fs::path(rel).parent_path().string();
    const sim::ShippedPreset* p = sim::find_shipped_preset(kind, entry.path().stem().string());
    ASSERT_NE(p, nullptr) << rel << " is not built in";
    EXPECT_EQ(p->path, rel);
    EXPECT_EQ(p->text, read(entry.path())) << rel << " differs from the built-in text";
  }
  EXPECT_EQ(sim::shipped_presets().size(), files);
  EXPECT_EQ(sim::shipped_preset_names("gpus").size(), sim::kGpuPresetNames.size());
  EXPECT_EQ(sim::shipped_preset_names("models").size(), sim::kModelPresetNames.size());
  EXPECT_EQ(sim::shipped_preset_names("costs"), std::vector<std::string>{"a100-80gb"});
}

TEST(ShippedPresets, KeepTheNumbersTheyHadAsCode) {
  const sim::GpuSpec& a100 = sim::gpu_preset("a100-80gb");
  EXPECT_DOUBLE_EQ(a100.memory_bytes, 81920.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(a100.hbm_bytes_per_s, 2039e9);
  EXPECT_DOUBLE_EQ(a100.bf16_flops, 312e12);
  EXPECT_DOUBLE_EQ(a100.link_bytes_per_s, 300e9);
  EXPECT_DOUBLE_EQ(a100.pcie_bytes_per_s, 32e9);
  const sim::ModelSpec& opt = sim::model_preset("opt-13b");
  EXPECT_EQ(opt.config.arch, "opt");
  EXPECT_FALSE(opt.gated_ffn);
  EXPECT_TRUE(opt.biases);
  EXPECT_TRUE(opt.config.tied_embeddings);
  EXPECT_EQ(opt.learned_positions, 2050);
  const sim::ModelSpec& l70 = sim::model_preset("llama-2-70b");
  EXPECT_EQ(l70.config.n_kv_heads, 8);
  EXPECT_EQ(l70.config.head_dim, 128);
  EXPECT_EQ(l70.config.arch, "llama");
  EXPECT_TRUE(l70.gated_ffn);
  EXPECT_EQ(l70.weight_bytes, 2);
}

TEST(GpuPresetFile, ReadsAGoodFile) {
  const sim::GpuSpec g = sim::parse_gpu_preset(
      "name: \"my-gpu\"  # a comment\nmemory_mib: 1024\nhbm_gb_per_s: 100\nbf16_tflops: 10\n"
      "link_gb_per_s: 5\npcie_gb_per_s: 4\nprice_per_hour: 0.5\n",
      "my-gpu.textproto");
  EXPECT_EQ(g.name, "my-gpu");
  EXPECT_DOUBLE_EQ(g.memory_bytes, 1024.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(g.hbm_bytes_per_s, 100e9);
  EXPECT_DOUBLE_EQ(g.bf16_flops, 10e12);
  EXPECT_DOUBLE_EQ(g.price_per_hour, 0.5);
}

TEST(GpuPresetFile, EachBadFileGivesOneErrorWithLineFieldAndFix) {
  const std::string good =
      "name: \"g\"\nmemory_mib: 1024\nhbm_gb_per_s: 100\nbf16_tflops: 10\n"
      "link_gb_per_s: 5\npcie_gb_per_s: 4\nprice_per_hour: 0.5\n";
  std::string e = error_of([&] { sim::parse_gpu_preset(good + "tensor_cores: 3\n", "g.tp"); });
  EXPECT_NE(e.find("g.tp:8: unknown field 'tensor_cores' in a GPU preset; remove it; the "
                   "fields are name, memory_mib,"),
            std::string::npos)
      << e;
  std::string bad = good;
  bad.replace(bad.find("hbm_gb_per_s: 100"), 17, "hbm_gb_per_s: 0");
  e = error_of([&] { sim::parse_gpu_preset(bad, "g.tp"); });
  EXPECT_EQ(e,
            "g.tp:3: GPU preset field hbm_gb_per_s: 0 is out of range: it must be above 0; "
            "give the GPU's value in the unit the field's name says");
  bad = good;
  bad.erase(bad.find("bf16_tflops: 10\n"), 16);
  e = error_of([&] { sim::parse_gpu_preset(bad, "g.tp"); });
  EXPECT_NE(e.find("g.tp:1: GPU preset field bf16_tflops: missing"), std::string::npos) << e;
  e = error_of([&] { sim::parse_gpu_preset("name: g\n", "g.tp"); });
  EXPECT_NE(e.find("g.tp:1: "), std::string::npos) << e;
  e = error_of([&] { sim::load_gpu("no/such/gpu.textproto", "/nonexistent"); });
  EXPECT_NE(e.find("/nonexistent/no/such/gpu.textproto: cannot read the preset file"),
            std::string::npos)
      << e;
  e = error_of([&] { sim::load_gpu("v100", "/nonexistent"); });
  EXPECT_NE(e.find("unknown GPU preset 'v100'; use one of a100-80gb, h100-80gb, a10g, l4, "
                   "rtx-4090, or the path of a .textproto file"),
            std::string::npos)
      << e;
}

TEST(ModelPresetFile, ReadsAGoodFileWithLlamaDefaults) {
  const sim::ModelSpec m = sim::parse_model_preset(
      "name: \"tiny\"\nlayers: 2\nhidden: 256\nheads: 4\nkv_heads: 2\nffn: 512\nvocab: 100\n"
      "context: 128\n",
      "tiny.textproto");
  EXPECT_EQ(m.name, "tiny");
  EXPECT_EQ(m.config.head_dim, 64);
  EXPECT_EQ(m.config.n_kv_heads, 2);
  EXPECT_TRUE(m.gated_ffn);
  EXPECT_EQ(m.linear_params_per_layer(), 256 * 256 * 2 + 2 * 256 * 128 + 3 * 256 * 512);
}

TEST(ModelPresetFile, EachBadFileGivesOneErrorWithLineFieldAndFix) {
  const std::string good =
      "name: \"tiny\"\nlayers: 2\nhidden: 256\nheads: 4\nffn: 512\nvocab: 100\ncontext: 128\n";
  std::string e = error_of([&] { sim::parse_model_preset(good + "kv_heads: 3\n", "m.tp"); });
  EXPECT_EQ(e,
            "m.tp:8: model preset field kv_heads: 3 does not divide heads 4; give a divisor "
            "of heads (grouped-query attention)");
  e = error_of([&] { sim::parse_model_preset(good + "ffn_form: \"moe\"\n", "m.tp"); });
  EXPECT_NE(e.find("m.tp:8: model preset field ffn_form: 'moe' is not supported"),
            std::string::npos)
      << e;
  std::string bad = good;
  bad.replace(bad.find("layers: 2"), 9, "layers: -2");
  e = error_of([&] { sim::parse_model_preset(bad, "m.tp"); });
  EXPECT_NE(e.find("m.tp:2: model preset field layers: -2 is out of range"), std::string::npos)
      << e;
  e = error_of([&] { sim::parse_model_preset(good + "experts: 8\n", "m.tp"); });
  EXPECT_NE(e.find("m.tp:8: unknown field 'experts' in a model preset"), std::string::npos) << e;
  bad = good;
  bad.erase(bad.find("vocab: 100\n"), 11);
  e = error_of([&] { sim::parse_model_preset(bad, "m.tp"); });
  EXPECT_NE(e.find("model preset field vocab: missing"), std::string::npos) << e;
}

TEST(ManifestPresets, AFileAndAShippedNameGiveTheSpecsTheyDescribe) {
  const fs::path dir = scratch("manifest");
  fs::create_directories(dir / "presets");
  std::ofstream(dir / "presets/half-a100.textproto")
      << "name: \"half-a100\"\nmemory_mib: 40960\nhbm_gb_per_s: 1000\nbf16_tflops: 156\n"
         "link_gb_per_s: 150\npcie_gb_per_s: 16\nprice_per_hour: 2\n";
  std::ofstream(dir / "tiny.textproto") << read(kPresets / "models/llama-2-7b.textproto");
  std::ofstream(dir / "costs.textproto") << "gemm_latency_us: 7\nmemory_efficiency: 0.8\n";

  manifest::LoadedManifest m =
      sim_manifest(fcfs_bricks(), "presets/half-a100.textproto", "tiny.textproto");
  m.file = dir / "manifest.textproto";
  m.proto.mutable_device()->set_cost_model("costs.textproto");
  engine::SimSetup s = engine::make_sim_setup(m);
  const sim::CostModel& cost = s.device->cost_model();
  EXPECT_EQ(cost.gpu().name, "half-a100");
  EXPECT_DOUBLE_EQ(cost.gpu().hbm_bytes_per_s, 1000e9);
  EXPECT_EQ(cost.model().name, "llama-2-7b");
  EXPECT_EQ(cost.model().linear_params(), sim::model_preset("llama-2-7b").linear_params());
  EXPECT_DOUBLE_EQ(cost.constants().gemm_latency_s, 7e-6);
  EXPECT_DOUBLE_EQ(cost.constants().memory_efficiency, 0.8);
  std::vector<manifest::Diagnostic> diags;
  manifest::validate_manifest(m, host::Catalogue{}, diags);
  for (const auto& d : diags) {
    EXPECT_EQ(d.message.find("device."), std::string::npos) << d.message;
  }

  // Shipped names: the A100's fitted constants by default, the generic ones elsewhere.
  manifest::LoadedManifest shipped = sim_manifest(fcfs_bricks(), "a100-80gb", "llama-2-7b");
  engine::SimSetup a = engine::make_sim_setup(shipped);
  const sim::CostConstants fitted = sim::load_cost_constants("a100-80gb", "", "");
  EXPECT_DOUBLE_EQ(a.device->cost_model().constants().gemm_efficiency_max,
                   fitted.gemm_efficiency_max);
  EXPECT_DOUBLE_EQ(a.device->cost_model().constants().layer_overhead_s, fitted.layer_overhead_s);
  EXPECT_NE(fitted.gemm_efficiency_max, sim::CostConstants{}.gemm_efficiency_max);
  engine::SimSetup h = engine::make_sim_setup(sim_manifest(fcfs_bricks(), "h100-80gb"));
  EXPECT_DOUBLE_EQ(h.device->cost_model().constants().gemm_efficiency_max,
                   sim::CostConstants{}.gemm_efficiency_max);
  EXPECT_EQ(h.device->cost_model().gpu().name, "h100-80gb");
}

TEST(ManifestPresets, ValidateNamesTheBadFileLineAndField) {
  const fs::path dir = scratch("validate");
  std::ofstream(dir / "gpu.textproto") << "name: \"g\"\nmemory_mib: 1024\nhbm_gb_per_s: -5\n";
  std::ofstream(dir / "costs.textproto") << "# fitted\nroofline_exponnt: 2\n";
  manifest::LoadedManifest m = sim_manifest(fcfs_bricks(), "gpu.textproto", "missing.textproto");
  m.file = dir / "manifest.textproto";
  m.proto.mutable_device()->set_cost_model("costs.textproto");
  std::vector<manifest::Diagnostic> diags;
  manifest::validate_manifest(m, host::Catalogue{}, diags);
  auto find = [&](const std::string& text) {
    for (const auto& d : diags) {
      if (d.error && (d.message + "; " + d.fix).find(text) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(find("device.gpu: " + (dir / "gpu.textproto").string() +
                   ":3: GPU preset field hbm_gb_per_s: -5 is out of range"));
  EXPECT_TRUE(find("device.sim_model: " + (dir / "missing.textproto").string() +
                   ": cannot read the preset file"));
  EXPECT_TRUE(find("device.cost_model: " + (dir / "costs.textproto").string() +
                   ":2: unknown field 'roofline_exponnt' in a cost preset; remove it"));
  EXPECT_THROW(engine::make_sim_setup(m), engine::SimFieldError);
}

}  // namespace
}  // namespace bricks::testing
