// `bricks validate FILE...`: checks manifests against the schema, the plugins' declared
// bricks and params, and the wiring; prints every problem with file:line:col and a fix.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "command.h"
#include "host/catalogue.h"
#include "manifest/manifest.h"
#include "plugin_scan.h"
#include "runtime/sim_setup.h"
#include "sim/sim_error.h"

namespace bricks::cli {
namespace {

namespace fs = std::filesystem;
namespace host = bricks::host;
namespace mf = bricks::manifest;

struct ValidateOptions {
  std::vector<std::string> files;
  bool json = false;
  PluginScanFlags scan;
};

// Scans once per distinct search path and pin set: manifests that share them share a scan.
class Catalogues {
 public:
  explicit Catalogues(const PluginScanFlags& flags) : flags_(flags) {}

  // `manifest_dirs` are searched after the --plugin-path dirs and before the defaults.
  const host::Catalogue& get(const std::vector<fs::path>& manifest_dirs,
                             const std::map<std::string, std::string>& pins) {
    std::string key;
    for (const fs::path& p : manifest_dirs) key += p.string() + '\n';
    for (const auto& [file, hash] : pins) key += file + '=' + hash + '\n';
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    host::Catalogue scanned = flags_.scan(manifest_dirs, pins);
    for (const host::BrokenPlugin& b : scanned.broken) {
      std::fprintf(stderr, "warning: plugin %s not loaded: %s\n", b.file.c_str(), b.reason.c_str());
    }
    return cache_.emplace(key, std::move(scanned)).first->second;
  }

 private:
  const PluginScanFlags& flags_;
  std::map<std::string, host::Catalogue> cache_;
};

nlohmann::json to_json(const mf::Diagnostic& d) {
  return {{"file", d.file},       {"line", d.line},
          {"col", d.col},         {"severity", d.error ? "error" : "warning"},
          {"message", d.message}, {"fix", d.fix},
          {"text", d.format()}};
}

// A sim device is checked by building it: presets, tensor parallelism, weights that fit,
// the calibration file. An error about one field is placed at that field; a calibration
// file's own errors (which name that file and line) at the device section.
void check_sim_device(const mf::LoadedManifest& m, std::vector<mf::Diagnostic>& diags) {
  if (m.proto.device().kind() != "sim") return;
  try {
    (void)engine::make_sim_setup(m);
  } catch (const engine::SimFieldError& e) {
    diags.push_back(m.at(e.field(), e.field() + ": " + e.detail(), ""));
  } catch (const sim::SimError& e) {
    diags.push_back(m.at("device", std::string("device: ") + e.what(), ""));
  }
}

int run_validate(const ValidateOptions& o) {
  Catalogues catalogues(o.scan);

  int total_errors = 0;
  bool any_invalid = false, any_unreadable = false;
  nlohmann::json report = nlohmann::json::array();
  for (const std::string& file : o.files) {
    std::vector<mf::Diagnostic> diags;
    std::optional<mf::LoadedManifest> m = mf::load_manifest(file, diags);
    if (m) {
      const bool valid = mf::validate_manifest(
          *m, catalogues.get(mf::manifest_plugin_paths(*m), mf::manifest_pins(*m)), diags);
      if (valid) check_sim_device(*m, diags);
    } else {
      any_unreadable = true;
    }
    mf::sort_diagnostics(diags);
    const int errors = mf::count_errors(diags);
    total_errors += errors;
    any_invalid = any_invalid || errors > 0;

    if (o.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const mf::Diagnostic& d : diags) list.push_back(to_json(d));
      report.push_back({{"file", file},
                        {"valid", errors == 0},
                        {"readable", m.has_value()},
                        {"errors", errors},
                        {"diagnostics", list}});
      continue;
    }
    for (const mf::Diagnostic& d : diags) std::printf("%s\n", d.format().c_str());
    if (errors == 0) std::printf("%s: ok\n", file.c_str());
  }

  const size_t n = o.files.size();
  if (o.json) {
    nlohmann::json out = {{"files", report}, {"errors", total_errors}};
    // Diagnostics quote the manifest; should one quote bytes that are not UTF-8, the
    // report still prints (with U+FFFD for them) instead of throwing.
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("%d error%s in %zu file%s\n", total_errors, total_errors == 1 ? "" : "s", n,
                n == 1 ? "" : "s");
  }
  if (any_unreadable) return kExitInputError;
  return any_invalid ? kExitFailure : kExitOk;
}

void add_validate_flags(CLI::App* cmd, ValidateOptions* options) {
  cmd->add_option("files", options->files, "Manifest files to check")
      ->required()
      ->type_name("FILE");
  options->scan.add_to(cmd);
  cmd->add_flag("--json", options->json,
                "Print JSON: {\"files\": [{\"file\", \"valid\", \"readable\", \"errors\", "
                "\"diagnostics\": [{\"file\", \"line\", \"col\", \"severity\", \"message\", "
                "\"fix\", \"text\"}]}], \"errors\": N}");
  cmd->footer(
      "Exit status: 0 when every manifest is valid (warnings allowed), 1 when any has an "
      "error, 3 when a file could not be read or parsed.\n"
      "Example:\n  bricks validate manifests/default.textproto --plugin-path build/plugins");
}

const Command kValidate{
    "validate", 30,
    "Check manifests (.textproto/.txtpb/.pbtxt in protobuf text format, or .json) against "
    "the schema, against the bricks the plugins declare (kinds, names, params and their "
    "types, ranges and choices) and for wiring (one scheduler, kv and attention brick; "
    "every required capability provided), and check the device, model, paths and "
    "workload.\n"
    "Prints every problem, not just the first, one per line as FILE:LINE:COL: error: "
    "WHAT; FIX, or FILE: ok; then 'N errors in M files'.\n"
    "Plugins are searched in each --plugin-path DIR, then the manifest's plugin_paths, then "
    "BRICKS_PLUGIN_PATH, the install dir and the build tree's plugin dir.",
    add_validate_flags, run_validate};

}  // namespace
}  // namespace bricks::cli
