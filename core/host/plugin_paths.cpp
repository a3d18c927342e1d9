#include "host/plugin_paths.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <system_error>

#include "host/host_error.h"
#include "host/sha256.h"

namespace fs = std::filesystem;

namespace bricks::host {
namespace {

bool world_writable(const fs::path& p) {
  std::error_code ec;
  fs::file_status st = fs::status(p, ec);
  return !ec && (st.permissions() & fs::perms::others_write) != fs::perms::none;
}

std::string mode_of(const fs::path& p) {
  std::error_code ec;
  auto bits = static_cast<unsigned>(fs::status(p, ec).permissions()) & 07777u;
  char text[8];
  std::snprintf(text, sizeof text, "%04o", bits);
  return text;
}

std::string world_writable_dir_reason(const fs::path& dir) {
  return "directory is world-writable (mode " + mode_of(dir) +
         "), anyone could plant a plugin there; refused: run `chmod o-w " + dir.string() + "`";
}

const std::string* find_pin(const fs::path& file, const LoadOptions& options) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(file, ec);
  for (const std::string& key : {file.filename().string(), file.string(), canonical.string()}) {
    auto it = options.sha256_pins.find(key);
    if (it != options.sha256_pins.end()) return &it->second;
  }
  return nullptr;
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
  // A link is judged by where it points too: its target and the target's directory.
  std::error_code ec;
  fs::path target = fs::canonical(file, ec);
  for (const fs::path& f : {file, ec ? file : target}) {
    if (world_writable(f.parent_path())) return world_writable_dir_reason(f.parent_path());
    if (world_writable(f)) {
      return "file is world-writable (mode " + mode_of(f) +
             "), anyone could replace it; refused: run `chmod o-w " + f.string() + "`";
    }
  }
  if (const std::string* pin = find_pin(file, options)) {
    std::string actual;
    try {
      actual = sha256_file(file);
    } catch (const BrickError& e) {
      return e.what();
    }
    if (actual != lowercase(*pin)) {
      return "SHA-256 mismatch: the file has " + actual + " but the manifest pins " + *pin +
             "; refused: rebuild the pinned plugin or update the pin";
    }
  }
  return "";
}

PluginFiles find_plugin_files(const LoadOptions& options) {
  PluginFiles out;
  std::set<fs::path> seen;
  for (const fs::path& dir : options.search_path) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;  // search path entries are allowed to be absent
    if (world_writable(dir)) {
      out.refused.push_back({dir.string(), world_writable_dir_reason(dir)});
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
    }
  }
  return out;
}

}  // namespace bricks::host
