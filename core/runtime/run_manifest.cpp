#include "runtime/run_manifest.h"

#include "engine/sim_device.h"
#include "runtime/adapter_setup.h"
#include "runtime/cluster_runtime.h"
#include "workload/workload.h"
#include "workload/workload_feed.h"
#include "workload/workload_images.h"

namespace bricks::engine {

std::vector<std::string> tenant_names(const manifest::Manifest& m) {
  std::vector<std::string> names;
  for (const auto& t : m.workload().generator().tenants()) {
    names.push_back(t.name().empty() ? "tenant" + std::to_string(names.size()) : t.name());
  }
  return names;
}

namespace {

Report run_on_cluster(const manifest::LoadedManifest& m, const RuntimeOptions& options,
                      const SloSpec& slo, const RunOptions& run) {
  ClusterSetupOptions co;
  co.allow_group_writable_plugins = options.allow_group_writable_plugins;
  std::unique_ptr<ClusterRuntime> rt = ClusterRuntime::create(m, co);
  Cluster& c = rt->cluster();
  if (run.trace != nullptr) {
    for (size_t i = 0; i < c.instances().size(); ++i) {
      const ClusterInstance& in = c.instances()[i];
      run.trace->name_instance(
          i, "instance " + std::to_string(i) + " (" + instance_role_name(in.role) + ")");
      in.engine->set_step_callback(
          [trace = run.trace, i](const StepEvent& e) { trace->add(i, e); });
    }
  }
  WorkloadContext ctx;
  ctx.vocab_size = rt->vocab_size();
  ctx.base_dir = m.base_dir();
  ctx.max_requests = run.max_requests;
  for (RequestSpec& spec : make_workload(m.proto.workload(), ctx)) c.submit(std::move(spec));
  c.run_to_completion(
      [&](const Cluster& cl) {
        if (run.progress) run.progress(cl.num_ended(), cl.requests().size(), cl.now());
      },
      run.stop);
  Report rep = c.report(slo);
  rep.bricks = rt->bricks_summary();
  rep.device = rt->device_summary();
  return rep;
}

Report run_on_engine(const manifest::LoadedManifest& m, const RuntimeOptions& options,
                     const SloSpec& slo, const RunOptions& run) {
  std::unique_ptr<Runtime> rt = Runtime::create(m, options);
  WorkloadContext ctx;
  ctx.tokenizer = rt->tokenizer();
  ctx.vocab_size = rt->vocab_size();
  ctx.base_dir = m.base_dir();
  ctx.max_requests = run.max_requests;
  ctx.context_length = rt->engine().model().config.context_length;
  Engine& eng = rt->engine();
  if (run.trace != nullptr) {
    run.trace->name_instance(0, "engine: " + rt->device_summary());
    eng.set_step_callback([trace = run.trace](const StepEvent& e) { trace->add(0, e); });
  }
  // Ended requests go as they end: the report reads their summaries.
  eng.keep_ended_requests(false);
  size_t total = 0;
  if (!m.proto.workload().has_images() && m.proto.model().adapters_size() == 0) {
    // Nothing to attach to the requests: they are drawn and submitted as they arrive.
    RequestStream stream(m.proto.workload(), ctx);
    total = stream.size();
    run_stream(
        eng, stream,
        [&](const Engine& e) {
          if (run.progress) run.progress(e.num_ended(), total, e.now());
        },
        run.stop);
  } else {
    std::vector<RequestSpec> work = make_workload(m.proto.workload(), ctx);
    if (m.proto.workload().has_images()) {
      const LlamaWeights& w = rt->weights();
      if (w.token_embd.data == nullptr) {
        throw RuntimeError(m.file.string() +
                           ": workload.images needs a device that computes the model "
                           "(device.kind cpu); drop workload.images on this device");
      }
      attach_images(work, m.proto.workload().images(), m.base_dir(), w.config.hidden,
                    token_embedding_rms(w));
    }
    if (m.proto.model().adapters_size() > 0) {
      try {
        assign_adapters(adapter_rule(m.proto.model()), work);
      } catch (const std::invalid_argument& e) {
        throw RuntimeError(m.file.string() + ": " + e.what());
      }
    }
    total = work.size();
    for (auto& spec : work) eng.submit(std::move(spec));
    eng.run_to_completion(
        [&](const Engine& e) {
          if (run.progress) run.progress(e.num_ended(), total, e.now());
        },
        run.stop);
  }
  Report rep = Report::from(eng, slo);
  if (const auto* sim = dynamic_cast<const SimDevice*>(&eng.device()))
    rep.tiers = tier_report(*sim);
  // A streamed run stopped early submitted only some: the rest are unfinished all the same.
  rep.submitted = total;
  rep.unfinished = rep.submitted - rep.finished - rep.failed;
  rep.bricks = rt->bricks_summary();
  rep.device = rt->device_summary();
  return rep;
}

}  // namespace

Report run_manifest(const manifest::LoadedManifest& m, const RuntimeOptions& options,
                    const SloSpec& slo, const RunOptions& run) {
  Report rep = needs_cluster(m.proto) ? run_on_cluster(m, options, slo, run)
                                      : run_on_engine(m, options, slo, run);
  rep.name = m.proto.name().empty() ? m.file.filename().string() : m.proto.name();
  rep.tenant_names = tenant_names(m.proto);
  return rep;
}

}  // namespace bricks::engine
