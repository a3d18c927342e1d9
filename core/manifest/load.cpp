// Reading a manifest file and the helpers on LoadedManifest.
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "manifest/manifest.h"
#include "parse_formats.h"
#include "validate_checks.h"

namespace bricks::manifest {

namespace fs = std::filesystem;

fs::path LoadedManifest::base_dir() const { return file.parent_path(); }

fs::path LoadedManifest::resolve(const std::string& path) const {
  if (path.empty()) return {};
  const fs::path p(path);
  return p.is_absolute() ? p : base_dir() / p;
}

Diagnostic LoadedManifest::at(std::string_view field_path, std::string message, std::string fix,
                              bool error) const {
  const Location where = locations.find(field_path);
  return {file.string(), where.line, where.col, error, std::move(message), std::move(fix)};
}

std::optional<LoadedManifest> load_manifest(const fs::path& file, std::vector<Diagnostic>& diags) {
  const std::string name = file.string();
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    diags.push_back({name, 0, 0, true, "cannot read the manifest: it is a directory",
                     "give a .textproto or .json file"});
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    diags.push_back({name, 0, 0, true,
                     std::string("cannot read the manifest: ") +
                         (fs::exists(file, ec) ? "permission denied" : "no such file"),
                     "check the path"});
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    diags.push_back({name, 0, 0, true, "cannot read the manifest: read error", "check the file"});
    return std::nullopt;
  }

  LoadedManifest m;
  m.file = file;
  const bool json = file.extension() == ".json";
  const bool ok = json ? parse_json_manifest(text.str(), name, m.proto, m.locations, diags)
                       : parse_text_manifest(text.str(), name, m.proto, m.locations, diags);
  if (!ok) return std::nullopt;
  return m;
}

bool validate_manifest(const LoadedManifest& m, const host::Catalogue& catalogue,
                       std::vector<Diagnostic>& diags) {
  std::vector<Diagnostic> found;
  check_values(m, found);
  std::set<std::pair<int, int>> bad_values;
  for (const Diagnostic& d : found) bad_values.emplace(d.line, d.col);
  std::vector<Diagnostic> rest;
  check_sections(m, rest);
  check_bricks(m, catalogue, rest);
  check_limits(m, catalogue, rest);
  check_pins_satisfied(m, catalogue, rest);
  // A NaN or a bad string also fails the range or choice check of its field; the value's
  // own error says what is wrong, so it is the one error at that place.
  for (Diagnostic& d : rest) {
    if (d.line > 0 && bad_values.count({d.line, d.col}) > 0) continue;
    found.push_back(std::move(d));
  }
  sort_diagnostics(found);
  const bool valid = count_errors(found) == 0;
  diags.insert(diags.end(), found.begin(), found.end());
  return valid;
}

std::vector<fs::path> manifest_plugin_paths(const LoadedManifest& m) {
  std::vector<fs::path> out;
  for (const std::string& p : m.proto.plugin_paths()) {
    if (p.empty()) continue;
    std::error_code ec;
    fs::path abs = fs::absolute(m.resolve(p), ec);
    out.push_back(ec ? m.resolve(p) : abs.lexically_normal());
  }
  return out;
}

std::string manifest_pin_key(const LoadedManifest& m, const PluginPin& pin) {
  if (pin.file().find('/') == std::string::npos) return pin.file();
  std::error_code ec;
  fs::path abs = fs::absolute(m.resolve(pin.file()), ec);
  return (ec ? m.resolve(pin.file()) : abs).lexically_normal().string();
}

std::map<std::string, std::string> manifest_pins(const LoadedManifest& m) {
  std::map<std::string, std::string> out;
  for (const PluginPin& pin : m.proto.pins()) out[manifest_pin_key(m, pin)] = pin.sha256();
  return out;
}

}  // namespace bricks::manifest
