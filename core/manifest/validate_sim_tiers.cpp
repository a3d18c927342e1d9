// The sim device's memory tiers: GPU memory given to weights, host memory, the SSD below it
// and the disk KV tier on that SSD. Sizes are checked here; whether the weights fit the
// tiers (which needs the GPU and model presets) is checked by building the cost model
// (bricks validate, make_sim_setup), which names the sizes and the fix.
#include "validate_checker.h"

namespace bricks::manifest {

void check_sim_tiers(Checker& c, const Device& d) {
  c.at_least<int64_t>("device.host_memory_bytes", d.host_memory_bytes(), 0,
                      "give the host memory in bytes, or 0 for unlimited");
  if (d.disk_kv_bytes() > 0 && d.ssd().empty()) {
    c.error("device.disk_kv_bytes",
            "the sim device keeps the disk KV tier on its SSD, and device.ssd is not set",
            "set device.ssd to nvme-gen4, nvme-gen3, sata or an SsdPreset file");
  }
  if (d.host_memory_bytes() > 0 && d.host_kv_bytes() > d.host_memory_bytes()) {
    c.error("device.host_memory_bytes",
            "device.host_memory_bytes is " + show(d.host_memory_bytes()) +
                ", smaller than device.host_kv_bytes (" + show(d.host_kv_bytes()) +
                "), which lives in it",
            "raise host_memory_bytes, or lower host_kv_bytes");
  }
  if (!d.disk_dir().empty()) {
    c.warning("device.disk_dir", "device.disk_dir is ignored on the sim device",
              "remove it: the sim device models its disk tier on device.ssd");
  }
}

}  // namespace bricks::manifest
