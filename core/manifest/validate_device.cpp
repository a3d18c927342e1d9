// The device section: which device, its threads, KV memory and precision.
#include "validate_checker.h"

namespace bricks::manifest {

void check_device(Checker& c, const Device& d) {
  c.one_of("device.kind", d.kind(), {"cpu", "sim"});
  c.at_least<int64_t>("device.threads", d.threads(), 0, "give 0 for all cores");
  c.at_least<int64_t>("device.kv_cache_bytes", d.kv_cache_bytes(), 0,
                      "give 0 for a default share of memory");
  c.at_least<int64_t>("device.host_kv_bytes", d.host_kv_bytes(), 0, "give 0 for no host tier");
  c.at_least<int64_t>("device.tensor_parallel", d.tensor_parallel(), 0,
                      "give the number of devices, or 0 for one");
  c.one_of("device.kv_dtype", d.kv_dtype(), {"f32", "f16"});
  c.one_of("device.compute", d.compute(), {"f32", "bf16"});
  if (d.kind() != "sim") {
    for (const char* field : {"gpu", "sim_model"}) {
      const std::string path = std::string("device.") + field;
      if (!(field[0] == 'g' ? d.gpu() : d.sim_model()).empty()) {
        c.warning(path,
                  path + " is ignored for a " + (d.kind().empty() ? "cpu" : d.kind()) + " device",
                  "remove it, or set device.kind to \"sim\"");
      }
    }
  }
}

}  // namespace bricks::manifest
