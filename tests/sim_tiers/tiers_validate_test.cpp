// The tier settings of the device section: validation (sizes, the SSD preset, settings a
// cpu device ignores) and the errors of building the sim device (weights left for a
// missing SSD), each with its field, what is wrong and the fix.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host/catalogue.h"
#include "manifest/manifest.h"
#include "runtime/sim_setup.h"
#include "sim_manifest.h"

namespace bricks::testing {
namespace {

std::vector<manifest::Diagnostic> device_diags(const manifest::LoadedManifest& m) {
  std::vector<manifest::Diagnostic> all, out;
  manifest::validate_manifest(m, host::Catalogue{}, all);
  for (const auto& d : all) {
    if (d.message.find("device.") != std::string::npos) out.push_back(d);
  }
  return out;
}

bool has(const std::vector<manifest::Diagnostic>& diags, bool error, const std::string& text) {
  for (const auto& d : diags) {
    if (d.error == error && (d.message + "; " + d.fix).find(text) != std::string::npos) return true;
  }
  return false;
}

manifest::LoadedManifest llama70b_on_4090() {
  manifest::LoadedManifest m = sim_manifest(fcfs_bricks(), "rtx-4090", "llama-2-70b");
  m.proto.mutable_device()->set_host_memory_bytes(64ll << 30);
  return m;
}

TEST(TiersValidate, AGoodTieredDeviceHasNoComplaints) {
  manifest::LoadedManifest m = llama70b_on_4090();
  m.proto.mutable_device()->set_ssd("nvme-gen4");
  m.proto.mutable_device()->set_host_kv_bytes(8ll << 30);
  m.proto.mutable_device()->set_disk_kv_bytes(32ll << 30);
  EXPECT_TRUE(device_diags(m).empty());
}

TEST(TiersValidate, UnknownSsdGetsTheShippedNames) {
  manifest::LoadedManifest m = llama70b_on_4090();
  m.proto.mutable_device()->set_ssd("nvme-gen5");
  const auto d = device_diags(m);
  EXPECT_TRUE(has(d, true, "device.ssd 'nvme-gen5' is not supported"));
  EXPECT_TRUE(has(d, true, "did you mean 'nvme-gen4'?"));
}

TEST(TiersValidate, SizesAndTheTiersTheyNeed) {
  manifest::LoadedManifest m = llama70b_on_4090();
  auto* dev = m.proto.mutable_device();
  dev->set_weight_memory_bytes(-1);
  dev->set_disk_kv_bytes(1 << 30);
  dev->set_host_memory_bytes(-5);
  const auto d = device_diags(m);
  EXPECT_TRUE(has(d, true, "device.weight_memory_bytes is -1, below 0"));
  EXPECT_TRUE(has(d, true, "device.host_memory_bytes is -5, below 0"));
  EXPECT_TRUE(has(d, true, "device.disk_kv_bytes needs a host tier above it"));
  EXPECT_TRUE(has(d, true, "disk KV tier on its SSD, and device.ssd is not set"));
}

TEST(TiersValidate, SimOnlySettingsWarnOnACpuDevice) {
  manifest::LoadedManifest m = sim_manifest({});
  auto* dev = m.proto.mutable_device();
  dev->set_kind("cpu");
  dev->set_ssd("nvme-gen4");
  dev->set_host_memory_bytes(1 << 30);
  const auto d = device_diags(m);
  EXPECT_TRUE(has(d, false, "device.ssd is ignored for a cpu device"));
  EXPECT_TRUE(has(d, false, "device.host_memory_bytes is ignored for a cpu device"));
}

TEST(TiersSetup, WeightsLeftForAMissingSsdNameTheSizesAndTheFix) {
  // Llama-2-70B f16 (~129 GiB) on a 24 GB GPU and 64 GiB of host memory: the rest needs an
  // SSD.
  const manifest::LoadedManifest m = llama70b_on_4090();
  try {
    (void)engine::make_sim_setup(m);
    FAIL() << "the 70B model ran without an SSD";
  } catch (const engine::SimFieldError& e) {
    EXPECT_EQ(e.field(), "device.ssd");
    const std::string what = e.detail();
    EXPECT_NE(what.find("llama-2-70b keeps"), std::string::npos) << what;
    EXPECT_NE(what.find("left for an SSD and there is none; set device.ssd (e.g. nvme-gen4)"),
              std::string::npos)
        << what;
  }
}

TEST(TiersSetup, TheSeventyBillionModelRunsWithAnSsd) {
  manifest::LoadedManifest m = llama70b_on_4090();
  m.proto.mutable_device()->set_ssd("nvme-gen4");
  m.proto.mutable_device()->set_overlap_swaps(true);
  const engine::SimSetup s = engine::make_sim_setup(m);
  const sim::WeightPlacement& p = s.device->cost_model().placement();
  EXPECT_GT(p.gpu_layers, 0);
  EXPECT_GT(p.host_layers, 0);
  EXPECT_GT(p.ssd_layers, 0);
  EXPECT_EQ(p.gpu_layers + p.host_layers + p.ssd_layers, 80);
  EXPECT_LE(p.host_bytes(), 64.0 * (1ll << 30));
  EXPECT_NE(s.summary.find("on nvme-gen4, streamed beside compute"), std::string::npos)
      << s.summary;
}

TEST(TiersSetup, DiskKvTierExtendsTheEnginesHostTier) {
  manifest::LoadedManifest m = sim_manifest(fcfs_bricks());
  auto* dev = m.proto.mutable_device();
  dev->set_ssd("nvme-gen4");
  dev->set_host_kv_bytes(1 << 30);
  dev->set_disk_kv_bytes(3ll << 30);
  const engine::SimSetup s = engine::make_sim_setup(m);
  EXPECT_EQ(s.host_kv_bytes, 4ll << 30);
  EXPECT_NE(s.summary.find("host KV tier 1.0 GiB + 3.0 GiB on nvme-gen4"), std::string::npos)
      << s.summary;
}

}  // namespace
}  // namespace bricks::testing
