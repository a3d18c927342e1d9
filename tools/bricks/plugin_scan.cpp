#include "plugin_scan.h"

#include "host/plugin_paths.h"
#include "host/scanner.h"

namespace bricks::cli {

void PluginScanFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--plugin-path", plugin_paths,
                  "A directory to search for plugins first (repeatable)")
      ->type_name("DIR")
      ->allow_extra_args(false);
  cmd->add_option("--scan-timeout", timeout_s,
                  "Seconds a plugin may take to load before it is reported as hanging")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

std::vector<std::filesystem::path> PluginScanFlags::search_path(
    const std::vector<std::filesystem::path>& more) const {
  std::vector<std::filesystem::path> dirs;
  for (const std::string& p : plugin_paths) dirs.push_back(std::filesystem::absolute(p));
  dirs.insert(dirs.end(), more.begin(), more.end());
  return host::plugin_search_path(dirs);
}

host::Catalogue PluginScanFlags::scan(const std::vector<std::filesystem::path>& more,
                                      const std::map<std::string, std::string>& pins) const {
  host::LoadOptions load;
  load.search_path = search_path(more);
  load.sha256_pins = pins;
  load.scan_timeout_s = timeout_s;
  return host::scan_plugins(load);
}

}  // namespace bricks::cli
