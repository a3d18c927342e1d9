#include "bench_run.h"

#include "engine/adapter_assign.h"
#include "engine/cluster_setup.h"
#include "engine/image_input.h"
#include "engine/workload.h"
#include "interrupt.h"

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

std::vector<std::string> tenant_names(const manifest::Manifest& m) {
  std::vector<std::string> names;
  for (const auto& t : m.workload().generator().tenants()) {
    names.push_back(t.name().empty() ? "tenant" + std::to_string(names.size()) : t.name());
  }
  return names;
}

std::string manifest_label(const manifest::LoadedManifest& m) { return m.file.stem().string(); }

engine::Report run_manifest(const manifest::LoadedManifest& m,
                            const engine::RuntimeOptions& options, const engine::SloSpec& slo,
                            const RunProgress& progress, size_t max_requests,
                            engine::StepTrace* trace) {
  if (engine::needs_cluster(m.proto)) {
    engine::ClusterSetupOptions co;
    co.max_requests = max_requests;
    co.trace = trace;
    co.stop = [] { return interrupted() != 0; };
    co.allow_group_writable_plugins = options.allow_group_writable_plugins;
    engine::Report rep =
        engine::run_cluster_manifest(m, slo, co, [&](const engine::Cluster& c) {
          if (progress) progress(c.num_ended(), c.requests().size(), c.now());
        });
    rep.tenant_names = tenant_names(m.proto);
    rep.interrupted_by = interrupt_name();
    return rep;
  }
  std::unique_ptr<engine::Runtime> rt = engine::Runtime::create(m, options);
  engine::WorkloadContext ctx;
  ctx.tokenizer = rt->tokenizer();
  ctx.vocab_size = rt->vocab_size();
  ctx.base_dir = m.base_dir();
  ctx.max_requests = max_requests;
  ctx.context_length = rt->engine().model().config.context_length;
  std::vector<engine::RequestSpec> work = engine::make_workload(m.proto.workload(), ctx);
  if (m.proto.workload().has_images()) {
    const engine::LlamaWeights& w = rt->weights();
    if (w.token_embd.data == nullptr) {
      throw engine::RuntimeError(m.file.string() +
                                 ": workload.images needs a device that computes the model "
                                 "(device.kind cpu); drop workload.images on this device");
    }
    engine::attach_images(work, m.proto.workload().images(), m.base_dir(), w.config.hidden,
                          engine::token_embedding_rms(w));
  }
  if (m.proto.model().adapters_size() > 0) {
    try {
      engine::assign_adapters(engine::adapter_rule(m.proto.model()), work);
    } catch (const std::invalid_argument& e) {
      throw engine::RuntimeError(m.file.string() + ": " + e.what());
    }
  }
  engine::Engine& eng = rt->engine();
  if (trace != nullptr) {
    trace->name_instance(0, "engine: " + rt->device_summary());
    eng.set_step_callback([trace](const engine::StepEvent& e) { trace->add(0, e); });
  }
  for (auto& spec : work) eng.submit(std::move(spec));
  eng.run_to_completion(
      [&](const engine::Engine& e) {
        if (progress) progress(e.ended().size(), e.num_submitted(), e.now());
      },
      [] { return interrupted() != 0; });
  engine::Report rep = engine::Report::from(eng, slo);
  rep.name = m.proto.name().empty() ? m.file.filename().string() : m.proto.name();
  rep.bricks = rt->bricks_summary();
  rep.device = rt->device_summary();
  rep.tenant_names = tenant_names(m.proto);
  rep.interrupted_by = interrupt_name();
  return rep;
}

}  // namespace bricks::cli
