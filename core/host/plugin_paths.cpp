#include "host/plugin_paths.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <system_error>

#include "host/host_error.h"
#include "host/plugin_trust.h"
#include "host/sha256.h"

namespace fs = std::filesystem;

namespace bricks::host {
namespace {

// The pin that governs a plugin file, if any.
struct PinMatch {
  const std::string* key = nullptr;   // the pin's file as given
  const std::string* hash = nullptr;  // its SHA-256
  bool other_copy = false;            // the name is pinned by a path that is not this file
};

bool is_path_pin(const std::string& key) { return key.find('/') != std::string::npos; }

fs::path pin_target(const std::string& key) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(fs::absolute(key, ec), ec);
  return ec ? fs::path(key).lexically_normal() : out;
}

// A path pin naming this file wins; then a path pin naming another file of this name
// (which shuts this copy out); then a pin by file name.
PinMatch find_pin(const fs::path& file, const LoadOptions& options) {
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(file, ec);
  const std::string name = file.filename().string();
  PinMatch other;
  for (const auto& [key, hash] : options.sha256_pins) {
    if (!is_path_pin(key)) continue;
    const fs::path target = pin_target(key);
    if (target == (ec ? file : real)) return {&key, &hash, false};
    if (target.filename() == name && other.key == nullptr) other = {&key, &hash, true};
  }
  if (other.key != nullptr) return other;
  auto it = options.sha256_pins.find(name);
  if (it != options.sha256_pins.end()) return {&it->first, &it->second, false};
  return {};
}

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_plugin_name(const std::string& name) {
  return name.size() > 6 && name.rfind("lib", 0) == 0 &&
         name.compare(name.size() - 3, 3, ".so") == 0;
}

}  // namespace

fs::path plugin_install_dir() { return BRICKS_PLUGIN_INSTALL_PATH; }
fs::path plugin_build_dir() {
  // Found from the running program rather than compiled in, so an installed binary holds
  // no path of the tree it was built in. CMakeCache.txt marks a build tree; its programs
  // are in bin/ and its plugins in plugins/.
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path tree = exe.parent_path().parent_path();
  if (!fs::exists(tree / "CMakeCache.txt", ec)) return {};
  return tree / "plugins";
}

std::vector<fs::path> plugin_search_path(const std::vector<fs::path>& extra) {
  std::vector<fs::path> candidates = extra;
  if (const char* env = std::getenv("BRICKS_PLUGIN_PATH"); env != nullptr) {
    std::string value = env;
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = value.find(':', start);
      if (end == std::string::npos) end = value.size();
      candidates.emplace_back(value.substr(start, end - start));
      start = end + 1;
    }
  }
  candidates.push_back(plugin_install_dir());
  candidates.push_back(plugin_build_dir());

  std::vector<fs::path> out;
  std::set<fs::path> seen;
  for (const fs::path& c : candidates) {
    if (c.empty()) continue;
    std::error_code ec;
    fs::path absolute = fs::absolute(c, ec).lexically_normal();
    if (ec) absolute = c;
    if (!absolute.has_filename() && absolute.has_relative_path()) absolute = absolute.parent_path();
    if (seen.insert(absolute).second) out.push_back(absolute);
  }
  return out;
}

std::string refusal_reason(const fs::path& file, const LoadOptions& options) {
  if (std::string reason = untrusted_file_reason(file, options.allow_group_writable);
      !reason.empty()) {
    return reason;
  }
  const PinMatch pin = find_pin(file, options);
  if (pin.key == nullptr) return "";
  if (pin.other_copy) {
    return "the manifest pins " + file.filename().string() + " by its path " + *pin.key +
           ", so no other copy is loaded in its place; refused: remove this copy, or pin by "
           "file name";
  }
  std::string actual;
  try {
    actual = sha256_file(file);
  } catch (const BrickError& e) {
    return e.what();
  }
  if (actual != lowercase(*pin.hash)) {
    return "SHA-256 mismatch: the file has " + actual + " but the manifest pins " + *pin.hash +
           "; refused: rebuild the pinned plugin or update the pin";
  }
  return "";
}

namespace {

// What each pin met during a scan.
struct PinState {
  bool found = false;     // some file it governs was on the search path
  bool accepted = false;  // one of them passed
  std::string refusal;    // why the first of them was refused
};

std::string searched_text(const std::vector<fs::path>& dirs) {
  std::string out;
  for (const fs::path& d : dirs) out += (out.empty() ? "" : ", ") + d.string();
  return out.empty() ? "no directories" : out;
}

std::vector<PinProblem> pin_problems(const std::map<std::string, PinState>& states,
                                     const LoadOptions& options, bool dirs_refused) {
  std::vector<PinProblem> out;
  for (const auto& [key, state] : states) {
    if (state.accepted) continue;
    if (state.found) {
      out.push_back({key, "pinned plugin " + key +
                              " was refused, and no other copy is loaded "
                              "in its place: " +
                              state.refusal});
      continue;
    }
    out.push_back({key, "pin " + key + " matches no plugin file on the search path (searched: " +
                            searched_text(options.search_path) + ")" +
                            (dirs_refused ? ", refused directories not counted" : "") +
                            "; fix the pin's file name or path, or add the plugin's directory "
                            "to plugin_paths or --plugin-path"});
  }
  return out;
}

}  // namespace

PluginFiles find_plugin_files(const LoadOptions& options) {
  PluginFiles out;
  std::set<fs::path> seen;
  std::map<std::string, PinState> pins;
  for (const auto& [key, hash] : options.sha256_pins) pins[key];
  bool dirs_refused = false;
  for (const fs::path& dir : options.search_path) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;  // search path entries are allowed to be absent
    if (std::string reason = untrusted_dir_reason(dir, options.allow_group_writable);
        !reason.empty()) {
      out.refused.push_back({dir.string(), reason});
      dirs_refused = true;
      continue;
    }
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      std::error_code type_ec;
      if (is_plugin_name(p.filename().string()) && fs::is_regular_file(p, type_ec)) {
        files.push_back(p);
      }
    }
    if (ec) {
      out.refused.push_back({dir.string(), "cannot list the directory: " + ec.message()});
      continue;
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      std::error_code canon_ec;
      fs::path canonical = fs::canonical(file, canon_ec);
      if (!seen.insert(canon_ec ? file : canonical).second) continue;
      std::string reason = refusal_reason(file, options);
      if (reason.empty()) {
        out.files.push_back(file);
      } else {
        out.refused.push_back({file.string(), reason});
      }
      const PinMatch pin = find_pin(file, options);
      if (pin.key == nullptr || pin.other_copy) continue;
      PinState& state = pins[*pin.key];
      if (!state.found) state.refusal = reason;
      state.found = true;
      state.accepted = state.accepted || reason.empty();
    }
  }
  out.pin_problems = pin_problems(pins, options, dirs_refused);
  return out;
}

}  // namespace bricks::host
