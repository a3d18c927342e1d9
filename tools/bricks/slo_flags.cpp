#include "slo_flags.h"

#include <cstdio>

namespace bricks::cli {

engine::SloSpec SloFlags::apply(const manifest::Manifest& m) const {
  engine::SloSpec s = engine::SloSpec::from(m.output().slo());
  if (ttft_s) s.ttft_s = *ttft_s;
  if (tpot_s) s.tpot_s = *tpot_s;
  if (tbt_s) s.tbt_s = *tbt_s;
  if (percentile) s.percentile = *percentile;
  if (attainment) s.attainment = *attainment;
  return s;
}

std::optional<engine::SloSpec> SloFlags::checked(const manifest::Manifest& m,
                                                 const std::string& file) const {
  const engine::SloSpec s = apply(m);
  if (const std::string problem = slo_problem(s, file); !problem.empty()) {
    std::fprintf(stderr, "error: %s\n", problem.c_str());
    return std::nullopt;
  }
  return s;
}

void add_slo_flags(CLI::App* cmd, SloFlags& s) {
  cmd->add_option("--slo-ttft", s.ttft_s,
                  "SLO on time to first token, seconds (overrides output.slo.ttft_s)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--slo-tpot", s.tpot_s,
                  "SLO on time per output token after the first, seconds (output.slo.tpot_s)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--slo-tbt", s.tbt_s,
                  "SLO on every time between tokens, seconds; a percentile target only "
                  "(output.slo.tbt_s)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--slo-percentile", s.percentile,
                  "Percentile the latency targets must hold at, e.g. 99 or 90 (default 99)")
      ->check(CLI::Range(1.0, 100.0));
  cmd->add_option("--slo-attainment", s.attainment,
                  "Share of requests that must meet the SLO for goodput (default 0.9)")
      ->check(CLI::Range(0.01, 1.0));
}

std::string slo_problem(const engine::SloSpec& s, const std::string& file) {
  const std::string where = file + ": output.slo.";
  for (const auto& [name, v] :
       {std::pair{"ttft_s", s.ttft_s}, {"tpot_s", s.tpot_s}, {"tbt_s", s.tbt_s}}) {
    if (v < 0) return where + name + " is negative; give seconds, or 0 for no target";
  }
  if (!(s.percentile > 0 && s.percentile <= 100)) {
    return where + "percentile is outside (0, 100]; give e.g. 99 or 90";
  }
  if (!(s.attainment > 0 && s.attainment <= 1)) {
    return where + "attainment is outside (0, 1]; give a share such as 0.9";
  }
  return "";
}

std::string manifest_label(const manifest::LoadedManifest& m) { return m.file.stem().string(); }

}  // namespace bricks::cli
