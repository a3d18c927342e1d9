#include "runtime/merge_checkpoints.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "bricks/model/model_overlay.h"
#include "cpu/threads.h"

namespace bricks::engine {

namespace fs = std::filesystem;

namespace {

std::string shape_text(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

// Every checkpoint (and the base) against the first: config and tensors.
void check_same_architecture(const model::Model& ref, const model::Model& other) {
  const model::LlamaConfig& a = ref.config();
  const model::LlamaConfig& b = other.config();
  const std::string who = other.path().string();
  const std::string fix = "; merged checkpoints must share one architecture (" +
                          ref.path().string() + " is the reference)";
  auto same = [&](const char* what, int64_t x, int64_t y) {
    if (x != y) {
      throw MergeError(who + ": " + what + " is " + std::to_string(y) + " but " +
                       std::to_string(x) + " in " + ref.path().string() + fix);
    }
  };
  same("hidden size", a.hidden, b.hidden);
  same("layer count", a.n_layers, b.n_layers);
  same("head count", a.n_heads, b.n_heads);
  same("kv head count", a.n_kv_heads, b.n_kv_heads);
  same("head dim", a.head_dim, b.head_dim);
  same("ffn size", a.ffn, b.ffn);
  same("vocab size", a.vocab_size, b.vocab_size);
  same("expert count", a.n_experts, b.n_experts);
  for (const model::TensorView& t : ref.tensors()) {
    const model::TensorView* o = other.find(t.name);
    if (o == nullptr) throw MergeError(who + ": has no tensor '" + t.name + "'" + fix);
    if (o->ne != t.ne) {
      throw MergeError(who + ": tensor '" + t.name + "' has shape " + shape_text(o->ne) + ", " +
                       shape_text(t.ne) + " in " + ref.path().string() + fix);
    }
  }
  for (const model::TensorView& t : other.tensors()) {
    if (ref.find(t.name) == nullptr) {
      throw MergeError(who + ": has tensor '" + t.name + "', which " + ref.path().string() +
                       " lacks" + fix);
    }
  }
}

std::vector<float> to_f32(const model::TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  model::to_f32(t.dtype, t.data, out);
  return out;
}

// Runs `work(i)` for i in [0, n) on `threads` threads; rethrows the first exception.
template <class Work>
void for_each_parallel(size_t n, int threads, Work&& work) {
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = n;  // stop handing out work
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

MergePlan merge_plan(const manifest::LoadedManifest& m) {
  MergePlan plan;
  const auto& merge = m.proto.model().merge();
  for (const auto& ck : merge.checkpoints()) {
    plan.checkpoints.push_back(m.resolve(ck.path()));
    plan.weights.push_back(ck.weight() == 0.0 ? 1.0 : ck.weight());
  }
  plan.base = m.resolve(merge.base());
  return plan;
}

std::unique_ptr<model::Model> merge_checkpoints(const MergePlan& plan,
                                                const host::BrickInstance& merger, int threads) {
  if (plan.checkpoints.empty()) throw MergeError("model.merge has no checkpoints to merge");
  if (plan.weights.size() != plan.checkpoints.size()) {
    throw MergeError("model.merge: " + std::to_string(plan.weights.size()) + " weights for " +
                     std::to_string(plan.checkpoints.size()) + " checkpoints");
  }
  if (merger.kind() != BRICKS_KIND_MERGER) {
    throw MergeError("merging needs a merger brick, got " +
                     std::string(host::kind_name(merger.kind())) + " '" + merger.info().name + "'");
  }
  std::vector<std::shared_ptr<const model::Model>> inputs;
  for (const fs::path& p : plan.checkpoints) inputs.push_back(model::Model::open(p));
  std::shared_ptr<const model::Model> base;
  if (!plan.base.empty()) base = model::Model::open(plan.base);
  for (size_t i = 1; i < inputs.size(); ++i) check_same_architecture(*inputs[0], *inputs[i]);
  if (base) check_same_architecture(*inputs[0], *base);

  const auto* vt = merger.vtable<bricks_merger_vtable>();
  const std::vector<float> weights(plan.weights.begin(), plan.weights.end());
  const std::vector<model::TensorView>& tensors = inputs[0]->tensors();
  std::vector<std::vector<unsigned char>> merged(tensors.size());
  std::vector<uint8_t> replaced(tensors.size(), 0);  // written by several threads: no vector<bool>
  if (threads <= 0) threads = cpu::num_threads();
  threads = std::max(1, std::min<int>(threads, static_cast<int>(tensors.size())));

  for_each_parallel(tensors.size(), threads, [&](size_t i) {
    const model::TensorView& ref = tensors[i];
    std::vector<std::vector<float>> values;
    std::vector<const float*> pointers;
    for (const auto& in : inputs) values.push_back(to_f32(*in->find(ref.name)));
    for (const auto& v : values) pointers.push_back(v.data());
    std::vector<float> base_values;
    if (base) base_values = to_f32(*base->find(ref.name));
    std::vector<float> out(static_cast<size_t>(ref.numel()));
    bricks_merge_tensor t{};
    t.struct_size = sizeof(t);
    t.name = ref.name.c_str();
    t.numel = ref.numel();
    t.base = base ? base_values.data() : nullptr;
    t.inputs = pointers.data();
    t.num_inputs = static_cast<int32_t>(pointers.size());
    t.weights = weights.data();
    int32_t did_merge = 0;
    host::check(vt->merge(merger.instance(), &t, out.data(), &did_merge),
                "merger '" + merger.info().name + "' on tensor '" + ref.name + "'");
    if (did_merge != 0) {
      merged[i] = model::encode_f32(ref.dtype, out);
      replaced[i] = 1;
    }
  });

  std::map<std::string, std::vector<unsigned char>> replacements;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (replaced[i] != 0) replacements.emplace(tensors[i].name, std::move(merged[i]));
  }
  std::string names;
  for (const fs::path& p : plan.checkpoints)
    names += (names.empty() ? "" : ",") + p.filename().string();
  const fs::path shown = plan.checkpoints[0].parent_path() / ("merge(" + names + ")");
  return std::make_unique<model::OverlayModel>(inputs[0], std::move(replacements), shown);
}

std::unique_ptr<model::Model> merge_from_manifest(const manifest::LoadedManifest& m,
                                                  const host::Registry& registry) {
  if (!m.proto.model().has_merge()) return nullptr;
  for (const auto& b : m.proto.bricks()) {
    bricks_kind kind{};
    if (!host::parse_kind(b.kind(), &kind) || kind != BRICKS_KIND_MERGER) continue;
    const host::BrickInfo& info = registry.find(kind, b.name());
    auto merger = registry.create(kind, b.name(), manifest::to_param_map(b, info));
    return merge_checkpoints(merge_plan(m), *merger);
  }
  throw MergeError(m.file.string() +
                   ": model.merge needs a merger brick; add bricks { kind: "
                   "\"merger\" name: \"merge\" }");
}

}  // namespace bricks::engine
