// The device section's checks for the sim device: its required presets, its settings'
// ranges, and warnings for settings that the chosen device ignores. Also that the shipped
// sim manifests load, validate and run.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "host/catalogue.h"
#include "manifest/manifest.h"
#include "runtime/runtime.h"
#include "sim_manifest.h"
#include "workload/workload.h"

namespace bricks::testing {
namespace {

// The device-section diagnostics of `m` (bricks are checked against an empty catalogue,
// so their errors are left out here).
std::vector<manifest::Diagnostic> device_diags(const manifest::LoadedManifest& m) {
  std::vector<manifest::Diagnostic> all, out;
  manifest::validate_manifest(m, host::Catalogue{}, all);
  for (const auto& d : all) {
    if (d.message.find("device.") != std::string::npos ||
        d.message.find("model section") != std::string::npos) {
      out.push_back(d);
    }
  }
  return out;
}

bool has(const std::vector<manifest::Diagnostic>& diags, bool error, const std::string& text) {
  for (const auto& d : diags) {
    if (d.error == error && (d.message + "; " + d.fix).find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(SimValidate, AGoodSimDeviceHasNoComplaints) {
  EXPECT_TRUE(device_diags(sim_manifest({})).empty());
}

TEST(SimValidate, PresetsAreRequiredAndChecked) {
  manifest::LoadedManifest m = sim_manifest({}, "a100-40gb", "");
  const auto d = device_diags(m);
  EXPECT_TRUE(has(d, true, "device.gpu 'a100-40gb' is not supported"));
  EXPECT_TRUE(has(d, true, "did you mean 'a100-80gb'?"));
  EXPECT_TRUE(has(d, true, "the sim device needs device.sim_model"));
  EXPECT_TRUE(has(d, true, "mistral-7b"));  // the choices
}

TEST(SimValidate, RangesOfTheCostModelSettings) {
  manifest::LoadedManifest m = sim_manifest({});
  auto* dev = m.proto.mutable_device();
  dev->set_gpu_memory_utilization(1.2);
  dev->set_pcie_gb_per_s(-1);
  dev->set_link_gb_per_s(-3);
  const auto d = device_diags(m);
  EXPECT_TRUE(has(d, true, "device.gpu_memory_utilization is 1.2, outside (0, 1]"));
  EXPECT_TRUE(has(d, true, "device.pcie_gb_per_s is -1, below 0"));
  EXPECT_TRUE(has(d, true, "device.link_gb_per_s is -3, below 0"));
}

TEST(SimValidate, IgnoredSettingsAreWarnings) {
  manifest::LoadedManifest sim = sim_manifest({});
  sim.proto.mutable_device()->set_threads(4);
  sim.proto.mutable_model()->set_builtin("tiny");
  const auto s = device_diags(sim);
  EXPECT_TRUE(has(s, false, "device.threads is ignored on the sim device"));
  EXPECT_TRUE(has(s, false, "the model section is ignored on the sim device"));

  manifest::LoadedManifest cpu = sim_manifest({});
  cpu.proto.mutable_device()->set_kind("cpu");
  cpu.proto.mutable_device()->set_overlap_swaps(true);
  cpu.proto.mutable_device()->set_gpu_memory_utilization(0.8);
  const auto c = device_diags(cpu);
  EXPECT_TRUE(has(c, false, "device.gpu is ignored for a cpu device"));
  // Both devices overlap swaps with compute: no warning.
  EXPECT_FALSE(has(c, false, "overlap_swaps"));
  EXPECT_TRUE(has(c, false, "device.gpu_memory_utilization is ignored for a cpu device"));
  for (const auto& d : c) EXPECT_FALSE(d.error) << d.format();
}

TEST(SimManifests, TheShippedOnesRun) {
  for (const char* name : {"sim-fcfs.textproto", "sim-sarathi.textproto"}) {
    std::vector<manifest::Diagnostic> diags;
    auto m = manifest::load_manifest(std::filesystem::path(BRICKS_SOURCE_DIR) / "manifests" / name,
                                     diags);
    ASSERT_TRUE(m.has_value()) << name;
    for (const auto& d : diags) EXPECT_FALSE(d.error) << d.format();
    engine::retarget_generator(*m->proto.mutable_workload()->mutable_generator(),
                               m->proto.workload().generator().rate(), 100, 0);
    auto rt = engine::Runtime::create(*m, {});
    engine::WorkloadContext ctx;
    ctx.vocab_size = rt->vocab_size();
    ctx.base_dir = m->base_dir();
    for (auto& spec : engine::make_workload(m->proto.workload(), ctx)) {
      rt->engine().submit(std::move(spec));
    }
    rt->engine().run_to_completion();
    ASSERT_EQ(rt->engine().ended().size(), 100u) << name;
    for (const engine::Request* r : rt->engine().ended()) {
      EXPECT_EQ(r->finish, engine::FinishReason::kLength) << name << ": " << r->failure;
    }
  }
}

}  // namespace
}  // namespace bricks::testing
