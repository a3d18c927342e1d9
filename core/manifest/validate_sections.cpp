// The parts of a manifest that need no catalogue: device, model, plugin paths and pins,
// workload. Settings left empty take the engine's defaults (device cpu, f32); a setting
// written must be one the engine knows.
#include "validate_checker.h"
#include "validate_checks.h"

namespace bricks::manifest {

void check_sections(const LoadedManifest& m, std::vector<Diagnostic>& diags) {
  Checker c{m, diags};
  check_device(c, m.proto.device());
  check_model(c, m.proto.model());
  check_plugins(c, m.proto);
  check_workload(c, m.proto.workload());
}

}  // namespace bricks::manifest
