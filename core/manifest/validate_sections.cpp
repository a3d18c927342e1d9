// The parts of a manifest that need no catalogue: device, model, plugin paths and pins,
// workload. Settings left empty take the engine's defaults (device cpu, f32); a setting
// written must be one the engine knows.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <system_error>
#include <type_traits>

#include "did_you_mean.h"
#include "validate_checks.h"

namespace bricks::manifest {
namespace {

namespace fs = std::filesystem;

template <typename T>
std::string show(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
    return buf;
  } else {
    return std::to_string(v);
  }
}

struct Checker {
  const LoadedManifest& m;
  std::vector<Diagnostic>& diags;

  void error(std::string_view path, std::string message, std::string fix) {
    diags.push_back(m.at(path, std::move(message), std::move(fix)));
  }
  void warning(std::string_view path, std::string message, std::string fix) {
    diags.push_back(m.at(path, std::move(message), std::move(fix), false));
  }

  // An optional string setting: empty, or one of `allowed`.
  void one_of(const std::string& path, const std::string& value,
              const std::vector<std::string>& allowed) {
    if (value.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) {
      return;
    }
    error(path, path + " '" + value + "' is not supported", suggest(value, allowed));
  }

  template <typename T>
  void at_least(const std::string& path, T value, T low, const std::string& fix) {
    if (value < low) error(path, path + " is " + show(value) + ", below " + show(low), fix);
  }

  // A path written in the manifest that must exist; `what` says what it is for.
  void exists(const std::string& path, const std::string& value, const std::string& what,
              bool directory) {
    if (value.empty()) return;
    const fs::path resolved = m.resolve(value);
    std::error_code ec;
    const fs::file_status st = fs::status(resolved, ec);
    if (!fs::exists(st)) {
      error(path, what + " '" + resolved.string() + "' does not exist",
            "paths are relative to the manifest's directory");
    } else if (directory && !fs::is_directory(st)) {
      error(path, what + " '" + resolved.string() + "' is not a directory",
            "give the directory that holds the plugin libraries");
    }
  }
};

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

void check_model(Checker& c, const Model& model) {
  if (!model.path().empty() && !model.builtin().empty()) {
    c.error("model.builtin", "the model sets both path and builtin",
            "keep one: path for a model file, builtin for a generated model");
  }
  c.exists("model.path", model.path(), "model", false);
  c.one_of("model.builtin", model.builtin(), {"tiny", "small", "1b", "moe-tiny"});
  c.one_of("model.dtype", model.dtype(), {"f32", "f16", "bf16"});
}

bool is_sha256(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char ch) {
           return std::isdigit(static_cast<unsigned char>(ch)) || (ch >= 'a' && ch <= 'f');
         });
}

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

void check_workload(Checker& c, const Workload& w) {
  if (!w.trace().empty() && w.has_generator()) {
    c.error("workload.generator", "the workload sets both a trace and a generator",
            "keep one of them");
  }
  c.exists("workload.trace", w.trace(), "trace", false);
  if (w.has_generator()) {
    const Generator& g = w.generator();
    const std::string p = "workload.generator.";
    c.at_least<int64_t>(p + "num_requests", g.num_requests(), 1, "give at least one request");
    c.at_least<double>(p + "rate", g.rate(), 0.0, "give requests per second, or 0 for all at once");
    c.at_least<int64_t>(p + "prompt_len_min", g.prompt_len_min(), 1, "prompts need a token");
    c.at_least<int64_t>(p + "output_len_min", g.output_len_min(), 1, "outputs need a token");
    for (const char* which : {"prompt_len", "output_len"}) {
      const bool prompt = which[0] == 'p';
      const int32_t lo = prompt ? g.prompt_len_min() : g.output_len_min();
      const int32_t hi = prompt ? g.prompt_len_max() : g.output_len_max();
      const std::string name = p + which;
      if (hi < lo) {
        c.error(name + "_max",
                name + "_max " + std::to_string(hi) + " is below " + name + "_min " +
                    std::to_string(lo),
                "make max at least min (equal for a fixed length)");
      }
    }
    c.at_least<int64_t>(p + "shared_prefix_len", g.shared_prefix_len(), 0, "give 0 for none");
    c.at_least<int64_t>(p + "prefix_group_size", g.prefix_group_size(), 0, "give 0 for none");
    if (g.shared_prefix_len() > 0 && g.prompt_len_min() > 0 &&
        g.shared_prefix_len() > g.prompt_len_min()) {
      c.error(p + "shared_prefix_len", "the shared prefix is longer than the shortest prompt",
              "make it at most prompt_len_min (" + std::to_string(g.prompt_len_min()) + ")");
    }
  }
  if (w.has_sampling()) {
    const Sampling& s = w.sampling();
    const std::string p = "workload.sampling.";
    c.at_least<double>(p + "temperature", s.temperature(), 0.0, "give 0 for greedy");
    c.at_least<int64_t>(p + "top_k", s.top_k(), 0, "give 0 for no top-k cut");
    c.at_least<double>(p + "repetition_penalty", s.repetition_penalty(), 0.0,
                       "give 1 (or 0) for none");
    for (const char* f : {"top_p", "min_p"}) {
      const double v = f[0] == 't' ? s.top_p() : s.min_p();
      if (!(v >= 0.0 && v <= 1.0)) {
        c.error(p + f, p + f + " is " + show(v) + ", outside [0, 1]",
                "give a probability in [0, 1]");
      }
    }
  }
}

}  // namespace

void check_sections(const LoadedManifest& m, std::vector<Diagnostic>& diags) {
  Checker c{m, diags};
  check_device(c, m.proto.device());
  check_model(c, m.proto.model());
  check_plugins(c, m.proto);
  check_workload(c, m.proto.workload());
}

}  // namespace bricks::manifest
