#include "plugin_scan.h"

#include "host/plugin_paths.h"
#include "host/scanner.h"

namespace bricks::cli {

void add_plugin_trust_flag(CLI::App* cmd, bool& allow_group_writable) {
  cmd->add_flag("--allow-group-writable-plugins", allow_group_writable,
                "Load plugin files and directories that their group may write (refused by "
                "default, like files and directories that others may write or own)");
}

void PluginScanFlags::add_to(CLI::App* cmd) {
  add_plugin_trust_flag(cmd, allow_group_writable);
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
  load.allow_group_writable = allow_group_writable;
  return host::scan_plugins(load);
}

}  // namespace bricks::cli
