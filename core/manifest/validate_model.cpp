// The model section and the plugin paths and pins.
#include <cctype>

#include "validate_checker.h"

namespace bricks::manifest {

void check_model(Checker& c, const Model& model) {
  if (!model.path().empty() && !model.builtin().empty()) {
    c.error("model.builtin", "the model sets both path and builtin",
            "keep one: path for a model file, builtin for a generated model");
  }
  c.exists("model.path", model.path(), "model", false);
  c.one_of("model.builtin", model.builtin(), {"tiny", "small", "1b", "moe-tiny"});
  c.one_of("model.dtype", model.dtype(), {"f32", "f16", "bf16"});
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

}  // namespace bricks::manifest
