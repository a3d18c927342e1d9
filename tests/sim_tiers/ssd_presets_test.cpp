// SSD presets: the shipped ones, a file of one's own (read, and refused with file:line,
// the field and the fix), and the RTX 4090 GPU preset.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sim/gpu_presets.h"
#include "sim/preset_names.h"
#include "sim/shipped_presets.h"
#include "sim/sim_error.h"
#include "sim/ssd_presets.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const sim::SimError& e) {
    return e.what();
  }
  return "";
}

TEST(SsdPresets, ShippedOnesLoadByNameInOrder) {
  ASSERT_EQ(sim::ssd_presets().size(), sim::kSsdPresetNames.size());
  EXPECT_EQ(sim::shipped_preset_names("ssds").size(), sim::kSsdPresetNames.size());
  for (size_t i = 0; i < sim::kSsdPresetNames.size(); ++i) {
    EXPECT_EQ(sim::ssd_presets()[i].name, sim::kSsdPresetNames[i]);
  }
  const sim::SsdSpec gen4 = sim::load_ssd("nvme-gen4", "/nonexistent");
  EXPECT_DOUBLE_EQ(gen4.read_bytes_per_s, 7e9);
  EXPECT_DOUBLE_EQ(gen4.write_bytes_per_s, 5e9);
  EXPECT_DOUBLE_EQ(gen4.latency_s, 80e-6);
  const sim::SsdSpec gen3 = sim::load_ssd("nvme-gen3", "/nonexistent");
  EXPECT_DOUBLE_EQ(gen3.read_bytes_per_s, 3.5e9);
  EXPECT_DOUBLE_EQ(gen3.write_bytes_per_s, 3e9);
  const sim::SsdSpec sata = sim::load_ssd("sata", "/nonexistent");
  EXPECT_DOUBLE_EQ(sata.read_bytes_per_s, 0.55e9);
  EXPECT_DOUBLE_EQ(sata.write_bytes_per_s, 0.5e9);
}

TEST(SsdPresets, AFileRelativeToTheManifest) {
  const fs::path dir = fs::path(::testing::TempDir()) / "ssd_presets_file";
  fs::create_directories(dir);
  std::ofstream(dir / "my-ssd.textproto")
      << "name: \"my-ssd\"\nread_gb_per_s: 12\nwrite_gb_per_s: 10\nlatency_us: 50\n";
  const sim::SsdSpec s = sim::load_ssd("my-ssd.textproto", dir);
  EXPECT_EQ(s.name, "my-ssd");
  EXPECT_DOUBLE_EQ(s.read_bytes_per_s, 12e9);
  EXPECT_DOUBLE_EQ(s.latency_s, 50e-6);
  EXPECT_EQ(s.price_per_tb, 0);
}

TEST(SsdPresets, EachBadFileGivesOneErrorWithLineFieldAndFix) {
  const std::string good = "name: \"s\"\nread_gb_per_s: 7\nwrite_gb_per_s: 5\nlatency_us: 80\n";
  std::string e = error_of([&] { sim::parse_ssd_preset(good + "iops: 3\n", "s.tp"); });
  EXPECT_NE(e.find("s.tp:5: unknown field 'iops'"), std::string::npos) << e;
  std::string bad = good;
  bad.replace(bad.find("latency_us: 80"), 14, "latency_us: 0");
  e = error_of([&] { sim::parse_ssd_preset(bad, "s.tp"); });
  EXPECT_EQ(e,
            "s.tp:4: SSD preset field latency_us: 0 is out of range: it must be above 0; give "
            "the SSD's value in the unit the field's name says");
  bad = good;
  bad.erase(bad.find("read_gb_per_s: 7\n"), 17);
  e = error_of([&] { sim::parse_ssd_preset(bad, "s.tp"); });
  EXPECT_NE(e.find("s.tp:1: SSD preset field read_gb_per_s: missing"), std::string::npos) << e;
  e = error_of([&] { sim::load_ssd("nvme-gen5", "/nonexistent"); });
  EXPECT_NE(e.find("nvme-gen4, nvme-gen3, sata"), std::string::npos) << e;
}

TEST(GpuPresets, Rtx4090) {
  const sim::GpuSpec& g = sim::gpu_preset("rtx-4090");
  EXPECT_DOUBLE_EQ(g.memory_bytes, 24564.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(g.hbm_bytes_per_s, 1008e9);
  EXPECT_DOUBLE_EQ(g.bf16_flops, 165e12);
  EXPECT_DOUBLE_EQ(g.pcie_bytes_per_s, 32e9);
  EXPECT_DOUBLE_EQ(g.link_bytes_per_s, 32e9);  // no NVLink
}

}  // namespace
}  // namespace bricks::testing
