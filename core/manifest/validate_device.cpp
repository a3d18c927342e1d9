// The device section: which device, its threads, KV memory and precision, and for the sim
// device its GPU, SSD, model and cost presets (shipped names or files), calibration file,
// cost-model settings and tier sizes.
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string_view>

#include "bricks/model/model.h"
#include "sim/cost_presets.h"
#include "sim/gpu_presets.h"
#include "sim/model_presets.h"
#include "sim/preset_names.h"
#include "sim/shipped_presets.h"
#include "sim/sim_error.h"
#include "sim/ssd_presets.h"
#include "validate_checker.h"

namespace bricks::manifest {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxThreads = 1024;

template <size_t N>
std::vector<std::string> names(const std::array<std::string_view, N>& list) {
  return std::vector<std::string>(list.begin(), list.end());
}

// A preset setting: a shipped name, or the path of a preset file that must parse. An
// unknown name that is no path gets the shipped names, with a did-you-mean.
void check_preset(Checker& c, const std::string& path, const std::string& value,
                  const std::vector<std::string>& shipped,
                  const std::function<void(const fs::path&)>& load) {
  if (value.empty() || std::find(shipped.begin(), shipped.end(), value) != shipped.end()) return;
  std::error_code ec;
  if (value.find('/') == std::string::npos && !value.ends_with(".textproto") &&
      !fs::exists(c.m.resolve(value), ec)) {
    c.one_of(path, value, shipped);
    return;
  }
  try {
    load(c.m.base_dir());
  } catch (const sim::SimError& e) {
    // "<file>:<line>: <what>; <fix>"
    const std::string what = e.what();
    const size_t split = what.find("; ");
    c.error(
        path, path + ": " + what.substr(0, split),
        split == std::string::npos ? "see core/proto/sim_presets.proto" : what.substr(split + 2));
  }
}

void check_sim(Checker& c, const Device& d) {
  if (d.gpu().empty()) {
    c.error("device.gpu", "the sim device needs device.gpu",
            "set it to one of " + host::join(names(sim::kGpuPresetNames)));
  }
  if (d.sim_model().empty()) {
    c.error("device.sim_model", "the sim device needs device.sim_model",
            "set it to one of " + host::join(names(sim::kModelPresetNames)));
  }
  check_preset(c, "device.gpu", d.gpu(), names(sim::kGpuPresetNames),
               [&](const fs::path& base) { sim::load_gpu(d.gpu(), base); });
  check_preset(c, "device.sim_model", d.sim_model(), names(sim::kModelPresetNames),
               [&](const fs::path& base) { sim::load_model(d.sim_model(), base); });
  check_preset(c, "device.cost_model", d.cost_model(), sim::shipped_preset_names("costs"),
               [&](const fs::path& base) { sim::load_cost_constants(d.cost_model(), base, ""); });
  check_preset(c, "device.ssd", d.ssd(), names(sim::kSsdPresetNames),
               [&](const fs::path& base) { sim::load_ssd(d.ssd(), base); });
  check_sim_tiers(c, d);
  c.exists("device.calibration_file", d.calibration_file(), "calibration file", false);
  const double util = d.gpu_memory_utilization();
  if (util < 0 || util > 1) {
    c.error("device.gpu_memory_utilization",
            "device.gpu_memory_utilization is " + show(util) + ", outside (0, 1]",
            "give a share of GPU memory such as 0.9, or 0 for the default 0.9");
  }
  c.at_least("device.pcie_gb_per_s", d.pcie_gb_per_s(), 0.0, "give 0 for the GPU preset's PCIe");
  c.at_least("device.link_gb_per_s", d.link_gb_per_s(), 0.0, "give 0 for the GPU preset's link");
  if (d.threads() != 0) {
    c.warning("device.threads", "device.threads is ignored on the sim device",
              "remove it: sim steps are modelled, not computed");
  }
  if (!d.compute().empty()) {
    c.warning("device.compute", "device.compute is ignored on the sim device",
              "remove it: the cost model assumes bf16 tensor cores");
  }
  const Model& model = c.m.proto.model();
  if (!model.path().empty() || !model.builtin().empty()) {
    c.warning(model.path().empty() ? "model.builtin" : "model.path",
              "the model section is ignored on the sim device",
              "remove it; the model's shape comes from device.sim_model");
  }
}

// Settings that only the sim device reads, set on another device.
void warn_sim_only(Checker& c, const Device& d) {
  const std::string kind = d.kind().empty() ? "cpu" : d.kind();
  auto ignored = [&](const char* field, bool set) {
    if (!set) return;
    const std::string path = std::string("device.") + field;
    c.warning(path, path + " is ignored for a " + kind + " device",
              "remove it, or set device.kind to \"sim\"");
  };
  ignored("gpu", !d.gpu().empty());
  ignored("sim_model", !d.sim_model().empty());
  ignored("calibration_file", !d.calibration_file().empty());
  ignored("cost_model", !d.cost_model().empty());
  ignored("gpu_memory_utilization", d.gpu_memory_utilization() != 0);
  ignored("pcie_gb_per_s", d.pcie_gb_per_s() != 0);
  ignored("link_gb_per_s", d.link_gb_per_s() != 0);
  ignored("ssd", !d.ssd().empty());
  ignored("host_memory_bytes", d.host_memory_bytes() != 0);
}

// Bytes of one KV block where the manifest alone says the model (a builtin); 0 otherwise.
int64_t builtin_block_bytes(const Checker& c, const Device& d) {
  const Model& model = c.m.proto.model();
  if (model.builtin().empty() || !model.path().empty()) return 0;
  model::LlamaConfig cfg;
  try {
    cfg = model::preset_config(model.builtin());
  } catch (const std::exception&) {
    return 0;  // an unknown builtin is reported by check_model
  }
  int64_t block_size = 16;
  for (const Brick& b : c.m.proto.bricks()) {
    if (b.kind() != "kv") continue;
    const auto it = b.params().find("block_size");
    if (it != b.params().end() && it->second.v_case() == Value::kInt && it->second.int_() > 0) {
      block_size = it->second.int_();
    }
  }
  const int64_t elem = d.kv_dtype() == "f16" ? 2 : 4;
  return 2 * int64_t{cfg.n_layers} * cfg.n_kv_heads * cfg.head_dim * block_size * elem;
}

// KV memory the cpu device allocates for real: no more than the machine has, and, where the
// manifest alone says the model (a builtin), at least one block of the kv brick.
void check_cpu_kv_memory(Checker& c, const Device& d) {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  const int64_t memory = pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
  for (const auto& [field, bytes] :
       {std::pair{"kv_cache_bytes", d.kv_cache_bytes()}, {"host_kv_bytes", d.host_kv_bytes()}}) {
    const std::string path = std::string("device.") + field;
    // A warning: the manifest may be meant for a larger machine; a run here refuses it.
    if (memory > 0 && bytes > memory) {
      c.warning(path,
                path + " is " + show(bytes) + " bytes, more than this machine's memory (" +
                    show(memory) + " bytes); a run here will refuse it",
                "give less (0 for a default share)");
    }
  }
  const int64_t block = builtin_block_bytes(c, d);
  if (d.kv_cache_bytes() > 0 && block > 0 && d.kv_cache_bytes() < block) {
    c.error("device.kv_cache_bytes",
            "device.kv_cache_bytes is " + show(d.kv_cache_bytes()) +
                " bytes, less than one KV "
                "block of the " +
                c.m.proto.model().builtin() + " model (" + show(block) + " bytes)",
            "give at least " + show(block) + ", or 0 for a default share");
  }
}

// The cpu device's disk tier under the host tier: a directory to hold its file (created and
// unlinked at once), room for one block at least. A disk without room for the whole file
// fails when the engine starts, naming the size.
void check_cpu_disk_kv(Checker& c, const Device& d) {
  if (d.disk_kv_bytes() <= 0) {
    if (!d.disk_dir().empty()) {
      c.warning("device.disk_dir", "device.disk_dir is ignored without device.disk_kv_bytes",
                "give device.disk_kv_bytes for a disk tier, or remove disk_dir");
    }
    return;
  }
  if (d.disk_dir().empty()) {
    c.error("device.disk_dir",
            "device.disk_kv_bytes needs device.disk_dir, the directory on a "
            "local disk for the disk tier's file",
            "give an existing directory (e.g. \"/var/tmp\"); relative paths are relative to the "
            "manifest's directory");
  } else {
    const fs::path dir = c.m.resolve(d.disk_dir());
    std::error_code ec;
    const fs::file_status st = fs::status(dir, ec);
    if (!fs::exists(st)) {
      c.error("device.disk_dir", "device.disk_dir '" + dir.string() + "' does not exist",
              "create it, or give an existing directory; relative paths are relative to the "
              "manifest's directory");
    } else if (!fs::is_directory(st)) {
      c.error("device.disk_dir", "device.disk_dir '" + dir.string() + "' is not a directory",
              "give the directory to hold the disk tier's file");
    } else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      c.error("device.disk_dir", "device.disk_dir '" + dir.string() + "' is not writable",
              "give a directory this user may create files in");
    }
  }
  const int64_t block = builtin_block_bytes(c, d);
  if (block <= 0) return;
  if (d.disk_kv_bytes() < block) {
    c.error("device.disk_kv_bytes",
            "device.disk_kv_bytes is " + show(d.disk_kv_bytes()) +
                " bytes, less than one KV "
                "block of the " +
                c.m.proto.model().builtin() + " model (" + show(block) + " bytes)",
            "give at least " + show(block) + ", or 0 for no disk tier");
  }
  if (d.host_kv_bytes() > 0 && d.host_kv_bytes() < block) {
    c.error("device.host_kv_bytes",
            "device.host_kv_bytes is " + show(d.host_kv_bytes()) +
                " bytes, less than one KV "
                "block of the " +
                c.m.proto.model().builtin() + " model (" + show(block) +
                " bytes): the disk tier below it has no host memory to pass through",
            "give at least " + show(block));
  }
}

// The cuda device keeps weights and KV in GPU memory: the disk tiers and the cpu's
// precision choices are not its.
void check_cuda(Checker& c, const Device& d) {
  c.one_of("device.compute", d.compute(), {"bf16", "f16"});
  c.at_least<int64_t>("device.cuda_device", d.cuda_device(), 0,
                      "give the GPU's ordinal (0 for the first)");
  if (d.weight_memory_bytes() != 0) {
    c.error("device.weight_memory_bytes",
            "the cuda device keeps every weight in GPU memory; it reads no layers from disk",
            "remove device.weight_memory_bytes, or use device.kind \"cpu\" for weights from disk");
  }
  if (d.disk_kv_bytes() != 0 || !d.disk_dir().empty()) {
    c.error(d.disk_kv_bytes() != 0 ? "device.disk_kv_bytes" : "device.disk_dir",
            "the cuda device has no disk tier for KV (its host tier is pinned host memory)",
            "remove the disk tier, or use device.kind \"cpu\"");
  }
}

}  // namespace

void check_device(Checker& c, const Device& d) {
  c.one_of("device.kind", d.kind(), {"cpu", "cuda", "sim"});
  c.at_least<int64_t>("device.threads", d.threads(), 0, "give 0 for all cores");
  // Each thread is started up front; far past any machine's cores that is a failure to
  // start rather than a slow run.
  c.at_most<int64_t>("device.threads", d.threads(), kMaxThreads,
                     "give at most the machine's cores, or 0 for all of them");
  c.at_least<int64_t>("device.kv_cache_bytes", d.kv_cache_bytes(), 0,
                      "give 0 for a default share of memory");
  c.at_least<int64_t>("device.host_kv_bytes", d.host_kv_bytes(), 0, "give 0 for no host tier");
  c.at_least<int64_t>("device.weight_memory_bytes", d.weight_memory_bytes(), 0,
                      "give 0 to keep all weights in memory");
  c.at_least<int64_t>("device.disk_kv_bytes", d.disk_kv_bytes(), 0, "give 0 for no disk tier");
  if (d.disk_kv_bytes() > 0 && d.host_kv_bytes() <= 0) {
    c.error("device.disk_kv_bytes",
            "device.disk_kv_bytes needs a host tier above it, but device.host_kv_bytes is " +
                show(d.host_kv_bytes()),
            "give device.host_kv_bytes (host memory the disk tier's blocks pass through)");
  }
  c.at_least<int64_t>("device.tensor_parallel", d.tensor_parallel(), 0,
                      "give the number of devices, or 0 for one");
  c.one_of("device.kv_dtype", d.kv_dtype(), {"f32", "f16"});
  if (d.kind() != "cuda") c.one_of("device.compute", d.compute(), {"f32", "bf16"});
  if (d.cuda_device() != 0 && d.kind() != "cuda") {
    c.warning("device.cuda_device", "device.cuda_device is ignored for a non-cuda device",
              "remove it, or set device.kind to \"cuda\"");
  }
  if (d.kind() == "sim") {
    check_sim(c, d);
  } else if (d.kind() == "cuda") {
    warn_sim_only(c, d);
    check_cuda(c, d);
  } else {
    warn_sim_only(c, d);
    check_cpu_kv_memory(c, d);
    check_cpu_disk_kv(c, d);
  }
}

}  // namespace bricks::manifest
