// The model section (file, merge, adapters) and the plugin paths and pins.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "bricks/model/model.h"
#include "manifest/chat_template_names.h"
#include "validate_checker.h"

namespace bricks::manifest {
namespace {

// Paths of the manifest's bricks of `kind` ("merger", "adapter").
std::vector<std::string> bricks_of(const Manifest& p, const std::string& kind) {
  std::vector<std::string> out;
  for (int i = 0; i < p.bricks_size(); ++i) {
    if (p.bricks(i).kind() == kind) out.push_back("bricks[" + std::to_string(i) + "]");
  }
  return out;
}

void check_merge(Checker& c, const Model& model) {
  const std::vector<std::string> mergers = bricks_of(c.m.proto, "merger");
  if (!model.has_merge()) {
    for (const std::string& path : mergers) {
      c.error(path, "a merger brick without model.merge has nothing to merge",
              "add model.merge with the checkpoints, or remove the merger brick");
    }
    return;
  }
  const Merge& merge = model.merge();
  if (!model.path().empty() || !model.builtin().empty()) {
    c.error(model.path().empty() ? "model.builtin" : "model.path",
            "model.merge names the model's files; path and builtin would be ignored",
            "remove path and builtin, or remove merge");
  }
  if (merge.checkpoints_size() == 0) {
    c.error("model.merge", "model.merge has no checkpoints",
            "add checkpoints { path: \"a.gguf\" weight: 1 } for each model to combine");
  }
  for (int i = 0; i < merge.checkpoints_size(); ++i) {
    const std::string path = "model.merge.checkpoints[" + std::to_string(i) + "]";
    const MergeCheckpoint& ck = merge.checkpoints(i);
    if (ck.path().empty()) {
      c.error(path, "checkpoint has no path", "give a GGUF file or a safetensors directory");
    }
    c.exists(path + ".path", ck.path(), "checkpoint", false);
    if (!std::isfinite(ck.weight())) {
      c.error(path + ".weight", "checkpoint weight is not a finite number", "give a number");
    }
  }
  c.exists("model.merge.base", merge.base(), "base model", false);
  if (mergers.empty()) {
    c.error("model.merge", "model.merge needs a merger brick to combine the checkpoints",
            "add bricks { kind: \"merger\" name: \"merge\" params { key: \"method\" "
            "value { string: \"linear\" } } }");
  }
}

void check_adapters(Checker& c, const Model& model) {
  const std::vector<std::string> adapter_bricks = bricks_of(c.m.proto, "adapter");
  if (model.adapters_size() == 0) {
    for (const std::string& path : adapter_bricks) {
      c.warning(path, "an adapter brick without model.adapters has no adapter to apply",
                "add model.adapters { name: \"a\" path: \"a.gguf\" }, or remove the brick");
    }
    return;
  }
  if (adapter_bricks.empty()) {
    c.error("model.adapters", "model.adapters needs an adapter brick to apply them",
            "add bricks { kind: \"adapter\" name: \"lora\" }");
  }
  c.one_of("model.adapter_assign", model.adapter_assign(), {"tenant", "round_robin"});
  std::set<std::string> names;
  std::map<int32_t, std::string> tenant_owner;
  for (int i = 0; i < model.adapters_size(); ++i) {
    const Adapter& a = model.adapters(i);
    const std::string path = "model.adapters[" + std::to_string(i) + "]";
    if (a.name().empty()) {
      c.error(path, "adapter has no name", "give the name requests use to pick it");
    } else if (!names.insert(a.name()).second) {
      c.error(path + ".name", "adapter name '" + a.name() + "' is used twice",
              "give every adapter its own name");
    }
    if (a.path().empty()) {
      c.error(path, "adapter has no path",
              "give a PEFT directory (adapter_config.json + adapter_model.safetensors) or a "
              "GGUF LoRA file");
    }
    c.exists(path + ".path", a.path(), "adapter", false);
    if (!std::isfinite(a.scale())) {
      c.error(path + ".scale", "adapter scale is not a finite number",
              "give a number; 1 = as trained");
    }
    for (int t = 0; t < a.tenants_size(); ++t) {
      const std::string tpath = path + ".tenants[" + std::to_string(t) + "]";
      if (a.tenants(t) < 0) {
        c.error(tpath, "tenant " + std::to_string(a.tenants(t)) + " is negative",
                "tenants count from 0");
        continue;
      }
      auto [it, fresh] = tenant_owner.emplace(a.tenants(t), a.name());
      if (!fresh && it->second != a.name()) {
        c.error(tpath,
                "tenant " + std::to_string(a.tenants(t)) + " is already given adapter '" +
                    it->second + "'",
                "list each tenant under one adapter");
      }
    }
  }
}

// A family name the server renders (serve/chat_template.h); the list goes with the fix even
// when a close name is suggested, since the names are not guessable.
void check_chat_template(Checker& c, const std::string& name) {
  const std::vector<std::string>& names = chat_template_names();
  if (name.empty() || std::find(names.begin(), names.end(), name) != names.end()) return;
  std::string fix = "the chat templates: " + host::join(names);
  if (auto close = host::closest_match(name, names))
    fix = "did you mean '" + *close + "'? (" + fix + ")";
  c.error("model.chat_template", "model.chat_template '" + name + "' is not a chat template", fix);
}

}  // namespace

void check_model(Checker& c, const Model& model) {
  if (!model.path().empty() && !model.builtin().empty()) {
    c.error("model.builtin", "the model sets both path and builtin",
            "keep one: path for a model file, builtin for a generated model");
  }
  c.exists("model.path", model.path(), "model", false);
  c.one_of("model.builtin", model.builtin(), model::model_presets());
  std::vector<std::string> types;
  for (model::FileType t : model::kAllFileTypes) types.emplace_back(model::file_type_name(t));
  c.one_of("model.dtype", model.dtype(), types);
  check_chat_template(c, model.chat_template());
  check_merge(c, model);
  check_adapters(c, model);
}

namespace {

bool is_sha256(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char ch) {
           return std::isdigit(static_cast<unsigned char>(ch)) || (ch >= 'a' && ch <= 'f');
         });
}

}  // namespace

void check_plugins(Checker& c, const Manifest& p) {
  for (int i = 0; i < p.plugin_paths_size(); ++i) {
    const std::string path = "plugin_paths[" + std::to_string(i) + "]";
    if (p.plugin_paths(i).empty()) {
      c.error(path, "plugin path is empty", "remove it, or give a directory");
    }
    c.exists(path, p.plugin_paths(i), "plugin directory", true);
  }
  for (int i = 0; i < p.pins_size(); ++i) {
    const std::string path = "pins[" + std::to_string(i) + "]";
    if (p.pins(i).file().empty()) c.error(path, "pin has no file", "name the plugin library");
    if (!is_sha256(p.pins(i).sha256())) {
      c.error(path + ".sha256", "pin sha256 '" + p.pins(i).sha256() + "' is not a SHA-256",
              "give 64 lowercase hex digits, as `sha256sum` prints them");
    }
  }
}

void check_pins_satisfied(const LoadedManifest& m, const host::Catalogue& catalogue,
                          std::vector<Diagnostic>& diags) {
  // Pins fail closed: a pinned plugin that is missing or refused is an error even when no
  // brick of this manifest comes from it, since the pin says which code may run.
  for (int i = 0; i < m.proto.pins_size(); ++i) {
    const std::string key = manifest_pin_key(m, m.proto.pins(i));
    for (const host::PinProblem& p : catalogue.pin_problems) {
      if (p.pin == key) {
        diags.push_back(m.at("pins[" + std::to_string(i) + "].file", p.reason, ""));
        break;
      }
    }
  }
}

}  // namespace bricks::manifest
