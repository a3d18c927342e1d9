// The parts of a manifest that need no catalogue: device, model, plugin paths and pins,
// workload, output. Settings left empty take the engine's defaults (device cpu, f32); a setting
// written must be one the engine knows.
#include "validate_checker.h"
#include "validate_checks.h"

namespace bricks::manifest {
namespace {

// output.slo: targets are seconds (0 = not checked); percentile and attainment 0 take the
// defaults (99, 0.9).
void check_output(Checker& c, const Output& o) {
  if (!o.has_slo()) return;
  const Slo& s = o.slo();
  const std::string p = "output.slo.";
  for (const auto& [name, v] :
       {std::pair{"ttft_s", s.ttft_s()}, {"tpot_s", s.tpot_s()}, {"tbt_s", s.tbt_s()}}) {
    if (v < 0) {
      c.error(p + name, p + name + " is " + show(v) + ", negative",
              "give seconds, or 0 for no target");
    }
  }
  if (s.percentile() != 0 && !(s.percentile() > 0 && s.percentile() <= 100)) {
    c.error(p + "percentile", p + "percentile is " + show(s.percentile()) +
                                  ", outside (0, 100]",
            "give e.g. 99 or 90 (0 = 99)");
  }
  if (s.attainment() != 0 && !(s.attainment() > 0 && s.attainment() <= 1)) {
    c.error(p + "attainment", p + "attainment is " + show(s.attainment()) +
                                  ", outside (0, 1]",
            "give a share such as 0.9 (0 = 0.9)");
  }
}

}  // namespace

void check_sections(const LoadedManifest& m, std::vector<Diagnostic>& diags) {
  Checker c{m, diags};
  check_device(c, m.proto.device());
  check_model(c, m.proto.model());
  check_plugins(c, m.proto);
  check_workload(c, m.proto.workload());
  check_output(c, m.proto.output());
}

}  // namespace bricks::manifest
