// The bricks of a manifest against the catalogue: kinds, names, params, one scheduler /
// kv / attention, and every required capability provided by some other brick or the device.
#include <algorithm>
#include <set>

#include "host/did_you_mean.h"
#include "validate_checks.h"

namespace bricks::manifest {
namespace {

std::vector<std::string> all_kind_names() {
  std::vector<std::string> out;
  for (int k = 0; k < BRICKS_KIND_COUNT_; ++k) {
    out.push_back(host::kind_name(static_cast<bricks_kind>(k)));
  }
  return out;
}

std::vector<std::string> names_of_kind(const host::Catalogue& catalogue, bricks_kind kind) {
  std::vector<std::string> out;
  for (const host::BrickInfo* b : catalogue.of_kind(kind)) out.push_back(b->name);
  return out;
}

std::string no_bricks_of(bricks_kind kind) {
  return std::string("no ") + host::kind_name(kind) +
         " bricks were found; add the directory of their plugin to plugin_paths or "
         "--plugin-path";
}

// The fix for a brick name that is not in the catalogue under `kind`.
std::string unknown_name_fix(const host::Catalogue& catalogue, bricks_kind kind,
                             const std::string& name) {
  const std::vector<std::string> names = names_of_kind(catalogue, kind);
  if (names.empty()) return no_bricks_of(kind);
  if (auto match = host::closest_match(name, names)) return "did you mean '" + *match + "'?";
  for (const host::BrickInfo& b : catalogue.bricks) {
    if (b.name == name) {
      return "'" + name + "' is a " + host::kind_name(b.kind) + " brick; known " +
             host::kind_name(kind) + " bricks: " + host::join(names);
    }
  }
  return "one of: " + host::join(names);
}

struct Resolved {
  std::string path;  // bricks[i]
  const host::BrickInfo* info;
};

void check_counts(const LoadedManifest& m,
                  const std::vector<std::pair<std::string, bricks_kind>>& kinds,
                  const host::Catalogue& catalogue, std::vector<Diagnostic>& diags) {
  // Exactly one of each engine brick; at most one merger (model.merge) and one adapter
  // brick (model.adapters), whose presence check_model ties to those sections.
  for (bricks_kind kind : {BRICKS_KIND_SCHEDULER, BRICKS_KIND_KV, BRICKS_KIND_ATTENTION,
                           BRICKS_KIND_MERGER, BRICKS_KIND_ADAPTER}) {
    const bool optional = kind == BRICKS_KIND_MERGER || kind == BRICKS_KIND_ADAPTER;
    const std::string name = host::kind_name(kind);
    std::vector<std::string> paths;
    for (const auto& [path, k] : kinds) {
      if (k == kind) paths.push_back(path);
    }
    if (paths.empty() && optional) continue;
    if (paths.empty()) {
      const std::vector<std::string> names = names_of_kind(catalogue, kind);
      diags.push_back(m.at(
          "bricks", "the manifest has no " + name + " brick",
          names.empty() ? no_bricks_of(kind) : "add one " + name + " brick: " + host::join(names)));
      continue;
    }
    for (size_t i = 1; i < paths.size(); ++i) {
      const Location first = m.locations.find(paths[0]);
      diags.push_back(m.at(
          paths[i],
          "a second " + name + " brick" +
              (first.line > 0 ? " (the first is at line " + std::to_string(first.line) + ")" : ""),
          "keep exactly one " + name + " brick"));
    }
  }
}

void check_capabilities(const LoadedManifest& m, const std::vector<Resolved>& known,
                        const host::Catalogue& catalogue, std::vector<Diagnostic>& diags) {
  const std::string device = m.proto.device().kind().empty() ? "cpu" : m.proto.device().kind();
  for (size_t i = 0; i < known.size(); ++i) {
    const host::BrickInfo& b = *known[i].info;
    // Attention runs where the device computes: on cuda its pointers are GPU memory.
    if (device == "cuda" && b.kind == BRICKS_KIND_ATTENTION &&
        std::find(b.provides.begin(), b.provides.end(), "device.cuda") == b.provides.end()) {
      std::vector<std::string> cuda;
      for (const host::BrickInfo& c : catalogue.bricks) {
        if (c.kind == BRICKS_KIND_ATTENTION &&
            std::find(c.provides.begin(), c.provides.end(), "device.cuda") != c.provides.end()) {
          cuda.push_back("'" + c.name + "'");
        }
      }
      diags.push_back(m.at(known[i].path + ".name",
                           "attention '" + b.name +
                               "' does not run on the cuda device (it does not provide "
                               "device.cuda)",
                           cuda.empty() ? "use an attention brick that provides device.cuda "
                                          "(cuda_paged, built when the CUDA Toolkit is found)"
                                        : "use " + host::join(cuda)));
    }
    for (const std::string& need : b.requires_) {
      bool provided = need == "device." + device;
      for (size_t j = 0; j < known.size() && !provided; ++j) {
        const auto& p = known[j].info->provides;
        provided = j != i && std::find(p.begin(), p.end(), need) != p.end();
      }
      if (provided) continue;
      std::vector<std::string> providers;
      for (const host::BrickInfo& c : catalogue.bricks) {
        if (std::find(c.provides.begin(), c.provides.end(), need) != c.provides.end()) {
          providers.push_back(std::string(host::kind_name(c.kind)) + " '" + c.name + "'");
        }
      }
      diags.push_back(
          m.at(known[i].path + ".name",
               std::string(host::kind_name(b.kind)) + " '" + b.name + "' requires capability '" +
                   need + "', which no other brick in this manifest provides",
               providers.empty() ? "no known brick provides it; add the plugin that does to "
                                   "plugin_paths"
                                 : "use a brick that provides it: " + host::join(providers)));
    }
  }
}

}  // namespace

void check_bricks(const LoadedManifest& m, const host::Catalogue& catalogue,
                  std::vector<Diagnostic>& diags) {
  std::vector<Resolved> known;
  std::vector<std::pair<std::string, bricks_kind>> kinds;  // every brick with a valid kind
  bool all_known = true;
  const auto& bricks = m.proto.bricks();
  for (int i = 0; i < bricks.size(); ++i) {
    const Brick& brick = bricks[i];
    const std::string path = "bricks[" + std::to_string(i) + "]";
    bricks_kind kind{};
    if (brick.kind().empty()) {
      diags.push_back(
          m.at(path, "brick has no kind", "set kind to one of: " + host::join(all_kind_names())));
      all_known = false;
      continue;
    }
    if (!host::parse_kind(brick.kind(), &kind)) {
      diags.push_back(m.at(path + ".kind", "unknown brick kind '" + brick.kind() + "'",
                           host::suggest(brick.kind(), all_kind_names())));
      all_known = false;
      continue;
    }
    kinds.emplace_back(path, kind);
    const std::string kind_s = host::kind_name(kind);
    if (brick.name().empty()) {
      const std::vector<std::string> names = names_of_kind(catalogue, kind);
      diags.push_back(
          m.at(path, kind_s + " brick has no name",
               names.empty() ? no_bricks_of(kind) : "set name to one of: " + host::join(names)));
      all_known = false;
      continue;
    }
    const host::BrickInfo* info = catalogue.find(kind, brick.name());
    if (info == nullptr) {
      diags.push_back(m.at(path + ".name", "unknown " + kind_s + " brick '" + brick.name() + "'",
                           unknown_name_fix(catalogue, kind, brick.name())));
      all_known = false;
      continue;
    }
    known.push_back({path, info});
    check_params(m, path, brick, *info, diags);
    const bool layered = kind == BRICKS_KIND_PRUNING || kind == BRICKS_KIND_ROUTER;
    for (int l = 0; l < brick.layers_size(); ++l) {
      if (brick.layers(l) < 0) {
        diags.push_back(m.at(path + ".layers[" + std::to_string(l) + "]",
                             "layer " + std::to_string(brick.layers(l)) + " is negative",
                             "layers count from 0"));
      }
    }
    if (!layered && brick.layers_size() > 0) {
      diags.push_back(m.at(path + ".layers[0]", "layers are ignored for " + kind_s + " bricks",
                           "remove them; only pruning and router bricks act after layers", false));
    }
  }
  check_counts(m, kinds, catalogue, diags);
  // Capabilities of a brick that could not be identified are unknown: checking the others'
  // needs then would only add noise to the error that is already reported.
  if (all_known) check_capabilities(m, known, catalogue, diags);
}

}  // namespace bricks::manifest
